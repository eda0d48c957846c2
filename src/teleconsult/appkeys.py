"""Every shared object lives on the app under one of these typed keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

    from .bus import EventBus
    from .bus.outbox import OutboxRelay
    from .calls.signaling import LazyGateway, SignalingHub
    from .clock import Clock
    from .config import Settings
    from .consent.notifier import Notifier
    from .db.failures import Health
    from .metrics import Metrics
    from .notify.outbox import MessageRelay
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
OUTBOX: web.AppKey[OutboxRelay] = web.AppKey("outbox")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
# Delivers one-time consent codes (consent/notifier.py); an SMS gateway in production.
NOTIFIER: web.AppKey[Notifier] = web.AppKey("notifier")
# Delivers queued SMS and e-mail messages (notify/outbox.py).
MESSAGES: web.AppKey[MessageRelay] = web.AppKey("messages")
CALL_HUB: web.AppKey[SignalingHub] = web.AppKey("call_hub")
CALL_GATEWAY: web.AppKey[LazyGateway] = web.AppKey("call_gateway")

# Per-request values set by authentication.
REQUEST_USER: web.RequestKey[Any] = web.RequestKey("user", object)
REQUEST_TOKEN: web.RequestKey[str] = web.RequestKey("token", str)
# A call-only session's consultation (a patient who followed a call link), else None.
REQUEST_CALL_ONLY: web.RequestKey[Any] = web.RequestKey("call_only", object)
