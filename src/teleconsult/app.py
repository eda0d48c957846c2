"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .accounts.passwords import Passwords
from .accounts.routes import router as accounts_router
from .api import PREFIX, install
from .appkeys import (
    BUS,
    CLOCK,
    ENDPOINTS,
    ENGINE,
    HEALTH,
    PASSWORDS,
    SESSIONMAKER,
    SETTINGS,
    STATS_CACHE,
)
from .audit.routes import router as audit_router
from .bus import EventBus, bus_from_settings
from .calls.routes import router as calls_router
from .calls.routes import setup_calls
from .clock import Clock
from .config import Settings
from .consent.notifier import NOTIFIER, LoggingNotifier
from .consent.routes import router as consent_router
from .consultations.routes import router as consultations_router
from .db.engine import engine_from_settings, make_sessionmaker
from .db.failures import Health
from .events import events_ws
from .facilities.routes import router as facilities_router
from .fhir.routes import router as fhir_router
from .health import healthz, readyz
from .middleware import errors_middleware, security_headers
from .openapi import build_openapi
from .passport.routes import router as passport_router
from .patients.routes import router as patients_router
from .scheduling.routes import router as scheduling_router
from .stats.cache import ReportCache
from .stats.routes import router as stats_router

METRICS: web.AppKey[dict[str, float]] = web.AppKey("metrics")

ROUTERS = [
    accounts_router,
    facilities_router,
    patients_router,
    scheduling_router,
    consultations_router,
    stats_router,
    consent_router,
    passport_router,
    audit_router,
    fhir_router,
    calls_router,
]


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    bus: EventBus | None = None,
) -> web.Application:
    """Build the app; the engine, bus and pools are opened and closed with it."""
    settings = settings or Settings()
    app = web.Application(
        middlewares=[security_headers, errors_middleware], client_max_size=2 * 1024 * 1024
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or Clock()
    app[PASSWORDS] = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    app[METRICS] = {"started_at": time.time()}
    app[HEALTH] = Health()
    # One-time consent codes; an SMS gateway replaces the development notifier here.
    app[NOTIFIER] = LoggingNotifier()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        own_engine = engine is None
        app[ENGINE] = engine or engine_from_settings(settings)
        app[BUS] = bus or bus_from_settings(settings)
        # Statistics reports, dropped when a session of this app commits a rollup change
        # and when the bus says another process did.
        app[STATS_CACHE] = reports = ReportCache(app[BUS], settings.stats_cache_seconds)
        app[SESSIONMAKER] = make_sessionmaker(app[ENGINE], info=reports.session_info)
        invalidations = asyncio.create_task(reports.listen())
        yield
        invalidations.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await invalidations
        if bus is None:
            await app[BUS].close()
        if own_engine:
            await app[ENGINE].dispose()

    app.cleanup_ctx.append(resources)
    web_root = settings.web_dir
    setup_calls(app, web_root)

    app[ENDPOINTS] = install(app, ROUTERS)
    openapi = build_openapi(app[ENDPOINTS])

    async def openapi_json(_: web.Request) -> web.Response:
        return web.json_response(openapi)

    async def metrics(request: web.Request) -> web.Response:
        uptime = time.time() - request.app[METRICS]["started_at"]
        pool = request.app[ENGINE].pool
        lines = [
            "# TYPE teleconsult_uptime_seconds gauge",
            f"teleconsult_uptime_seconds {uptime:.1f}",
            "# TYPE teleconsult_db_pool_checked_out gauge",
            f"teleconsult_db_pool_checked_out {getattr(pool, 'checkedout', lambda: 0)()}",
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    app.router.add_get(PREFIX + "/openapi.json", openapi_json)
    app.router.add_get(PREFIX + "/events", events_ws)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if web_root.is_dir():

        async def index(_: web.Request) -> web.FileResponse:
            return web.FileResponse(web_root / "index.html")

        app.router.add_get("/", index)
        app.router.add_static("/static/", web_root, follow_symlinks=False)
    return app
