from __future__ import annotations

from ..config import Settings
from .base import EventBus
from .memory import MemoryBus


def bus_from_settings(settings: Settings) -> EventBus:
    if settings.redis_url:
        from .redis import RedisBus

        return RedisBus(settings.redis_url)
    return MemoryBus()
