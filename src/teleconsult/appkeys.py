"""Every shared object lives on the app under one of these typed keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

    from .bus import EventBus
    from .clock import Clock
    from .config import Settings
    from .db.failures import Health
    from .stats.cache import ReportCache

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONMAKER: web.AppKey[async_sessionmaker[Any]] = web.AppKey("sessionmaker")
BUS: web.AppKey[EventBus] = web.AppKey("bus")
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
ENDPOINTS: web.AppKey[list[Any]] = web.AppKey("endpoints")
PASSWORDS: web.AppKey[Any] = web.AppKey("passwords")
STATS_CACHE: web.AppKey[ReportCache] = web.AppKey("stats_cache")
HEALTH: web.AppKey[Health] = web.AppKey("health")

# Per-request values set by authentication.
REQUEST_USER: web.RequestKey[Any] = web.RequestKey("user", object)
REQUEST_TOKEN: web.RequestKey[str] = web.RequestKey("token", str)
