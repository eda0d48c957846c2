"""The event bus: in-process by default, Redis pub/sub when several processes share work."""

from .base import CLOSE_TRY_AGAIN_LATER, BusUnavailable, EventBus, Subscription
from .factory import bus_from_settings

__all__ = [
    "CLOSE_TRY_AGAIN_LATER",
    "BusUnavailable",
    "EventBus",
    "Subscription",
    "bus_from_settings",
]
