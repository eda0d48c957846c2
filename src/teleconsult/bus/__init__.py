"""The event bus: in-process by default, Redis pub/sub when several processes share work."""

from .base import EventBus, Subscription
from .factory import bus_from_settings

__all__ = ["EventBus", "Subscription", "bus_from_settings"]
