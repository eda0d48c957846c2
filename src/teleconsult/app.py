"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .accounts.admin_routes import router as admin_router
from .accounts.passwords import Passwords
from .accounts.routes import router as accounts_router
from .api import PREFIX, install
from .appkeys import (
    BUS,
    CALL_GATEWAY,
    CALL_HUB,
    CLOCK,
    ENDPOINTS,
    ENGINE,
    HEALTH,
    MESSAGES,
    METRICS,
    NOTIFIER,
    OUTBOX,
    PASSWORDS,
    SESSIONMAKER,
    SETTINGS,
    STATS_CACHE,
)
from .audit.routes import router as audit_router
from .bus import EventBus, bus_from_settings
from .bus.outbox import OutboxRelay
from .calls import links as call_links
from .calls import service as calls_service
from .calls.loopback import use_loopback_host_candidates
from .calls.presence import presence_for
from .calls.routes import router as calls_router
from .calls.routes import signal_ws
from .calls.signaling import ClosingGateway, LazyGateway, SignalingHub
from .clock import Clock
from .codes_routes import router as codes_router
from .coding.routes import router as coding_router
from .coding.routes import warm_index as warm_coding_index
from .config import Settings
from .consent.notifier import notifier_for
from .consent.routes import router as consent_router
from .consultations.mine import router as my_consultations_router
from .consultations.queue import router as queue_router
from .consultations.routes import router as consultations_router
from .db.engine import engine_from_settings, make_sessionmaker
from .db.failures import Health
from .db.uow import unit_of_work
from .events import events_ws
from .facilities.names import reader_language
from .facilities.routes import router as facilities_router
from .fhir.imports import fhir_import
from .fhir.routes import router as fhir_router
from .files.routes import install as install_files
from .formulary.routes import router as formulary_router
from .health import healthz, metrics, metrics_for, observe, readyz
from .icd.routes import router as icd10_router
from .logs import request_id
from .measurements.routes import router as measurements_router
from .middleware import errors_middleware, security_headers
from .notify.channels import channels_from_settings
from .notify.outbox import MessageRelay
from .notify.routes import router as messages_router
from .notify.service import CALL_OPEN
from .openapi import build_openapi
from .passport.routes import router as passport_router
from .passport.service import attach_recording
from .patients.routes import router as patients_router
from .programmes.routes import router as programmes_router
from .proof.routes import router as proof_router
from .scheduling.routes import router as scheduling_router
from .stats.cache import ReportCache
from .stats.routes import router as stats_router

ROUTERS = [
    codes_router,
    accounts_router,
    admin_router,
    facilities_router,
    patients_router,
    scheduling_router,
    consultations_router,
    queue_router,
    icd10_router,
    my_consultations_router,
    stats_router,
    consent_router,
    passport_router,
    audit_router,
    fhir_router,
    formulary_router,
    calls_router,
    messages_router,
    proof_router,
    coding_router,
    programmes_router,
    measurements_router,
]


CleanupCtx = Callable[[web.Application], AsyncIterator[None]]

# Where the process that wrote a call recording announces it (ids and a file, no patient data).
RECORDINGS_CHANNEL = "recordings"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    bus: EventBus | None = None,
) -> web.Application:
    """Build the app; the engine, bus and pools are opened and closed with it.

    An ``engine`` or ``bus`` passed in belongs to the caller and stays open.
    """
    settings = settings or Settings()
    app = web.Application(
        middlewares=[request_id, observe, security_headers, errors_middleware, reader_language],
        client_max_size=2 * 1024 * 1024,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or Clock()
    app[PASSWORDS] = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    app[METRICS] = metrics_for(app)
    app[HEALTH] = Health()
    # One-time consent codes: the development stand-in, or none (TELECONSULT_CONSENT_CODES).
    app[NOTIFIER] = notifier_for(settings.consent_codes, settings.env)
    # In order: each one's teardown runs after those added later.
    app.cleanup_ctx.append(database_and_bus(engine, bus))
    app.cleanup_ctx.append(call_hub)
    app.on_startup.append(warm_coding_index)

    app[ENDPOINTS] = install(app, ROUTERS) + install_files(app)
    openapi = build_openapi(app[ENDPOINTS])

    async def openapi_json(_: web.Request) -> web.Response:
        return web.json_response(openapi)

    app.router.add_get(PREFIX + "/openapi.json", openapi_json)
    app.router.add_get(PREFIX + "/events", events_ws)
    app.router.add_post(PREFIX + "/fhir", fhir_import)
    app.router.add_get(PREFIX + "/consultations/{id}/signal", signal_ws)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    add_pages(app, settings.web_dir)
    return app


def database_and_bus(engine: AsyncEngine | None, bus: EventBus | None) -> CleanupCtx:
    """The engine, the event bus, the sessions and the statistics cache that listens on it."""

    async def resources(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        app[ENGINE] = engine or engine_from_settings(settings)
        app[BUS] = bus or bus_from_settings(settings)
        # Statistics reports, dropped when a session of this app commits a rollup change
        # and when the bus says another process did.
        app[STATS_CACHE] = reports = ReportCache(app[BUS], settings.stats_cache_seconds)
        # Events written with their changes, delivered to the bus after commit, with retries.
        app[OUTBOX] = relay = OutboxRelay(None, app[BUS])
        # SMS and e-mail written with their changes, delivered by their channels afterwards.
        app[MESSAGES] = messages = MessageRelay(
            None,
            channels_from_settings(settings),
            app[CLOCK],
            settings.web_dir,
            # "The call is open now": its one-time link is made as it is sent.
            minters={CALL_OPEN: call_links.mint},
        )
        app[SESSIONMAKER] = relay.sessions = messages.sessions = make_sessionmaker(
            app[ENGINE], info=reports.session_info | relay.session_info | messages.session_info
        )
        background = [
            asyncio.create_task(reports.listen()),
            asyncio.create_task(relay.run()),
            asyncio.create_task(messages.run()),
        ]
        yield
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await messages.close()
        if bus is None:
            await app[BUS].close()
        if engine is None:
            await app[ENGINE].dispose()

    return resources


async def call_hub(app: web.Application) -> AsyncIterator[None]:
    """The signaling hub, and the media gateway it opens on the first relay call."""
    settings = app[SETTINGS]
    if settings.call_loopback_only:
        use_loopback_host_candidates()

    async def announce_recording(room_id: str, path: Path) -> None:
        # The recording becomes a passport attachment here, in the one process whose
        # gateway wrote it; the event carries no patient data, only ids and a file.
        async with unit_of_work(app[SESSIONMAKER]) as session:
            await attach_recording(
                session, uuid.UUID(room_id), path, settings.data_dir, app[CLOCK].now()
            )
        await app[BUS].publish(
            RECORDINGS_CHANNEL,
            {"type": "recording", "consultation_id": room_id, "file": str(path)},
        )

    def open_gateway() -> ClosingGateway:
        from .calls.gateway import MediaGateway  # aiortc and PyAV load with the first relay

        return MediaGateway(settings, announce_recording, app[CALL_HUB].tell_slots)

    async def close_stale(peer_id: str) -> None:
        # A participant whose process died: its leave time is written by whoever notices.
        async with unit_of_work(app[SESSIONMAKER]) as session:
            await calls_service.leave_call(session, peer_id, app[CLOCK].now())

    app[CALL_GATEWAY] = LazyGateway(open_gateway)
    app[CALL_HUB] = SignalingHub(
        app[BUS], presence_for(app[BUS]), settings, app[CALL_GATEWAY], close_stale
    )
    yield
    await app[CALL_HUB].close()
    await app[CALL_GATEWAY].close()


def add_pages(app: web.Application, web_root: Path) -> None:
    """The web app's page, its static files, and the call page."""
    if not web_root.is_dir():
        return

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "index.html")

    app.router.add_get("/", index)
    app.router.add_static("/static/", web_root, follow_symlinks=False)
    call_page = web_root / "call.html"
    if call_page.is_file():

        async def call(_: web.Request) -> web.FileResponse:
            return web.FileResponse(call_page)

        app.router.add_get("/call/{id}", call)
