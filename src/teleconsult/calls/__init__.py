"""Video calls: tickets, ICE servers, signaling, presence and the aiortc media gateway."""
