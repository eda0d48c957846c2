"""``GET /consultations/{id}/call``, call options, and ``WS /consultations/{id}/signal``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from ..api import PREFIX, Ctx, Router
from ..appkeys import BUS, CLOCK, SESSIONMAKER, SETTINGS
from ..codes import Role
from ..db.uow import unit_of_work
from ..errors import NotFound
from ..passport.service import attach_recording
from . import service
from .loopback import use_loopback_host_candidates
from .presence import PeerInfo, presence_for
from .rules import MAX_SDP_BYTES, ice_servers, new_peer_id
from .schemas import CallOptionsIn, CallOptionsOut, CallTicketOut, RecordingConsentIn
from .signaling import ClosingGateway, LazyGateway, SignalingHub

router = Router("calls")

CALL_HUB: web.AppKey[SignalingHub] = web.AppKey("call_hub")
CALL_GATEWAY: web.AppKey[LazyGateway] = web.AppKey("call_gateway")

RECORDINGS_CHANNEL = "recordings"

_PARTICIPANTS = [Role.gp, Role.specialist, Role.patient, Role.admin]


def _ws_base(request: web.Request) -> str:
    public = request.app[SETTINGS].public_url
    if public:
        base = public.rstrip("/")
    else:
        scheme = request.headers.get("X-Forwarded-Proto", request.scheme)
        base = f"{scheme}://{request.host}"
    return "ws" + base.removeprefix("http")


@router.get(
    "/consultations/{id}/call",
    summary="Join a video call: ICE servers and a one-time signaling URL",
    response=CallTicketOut,
    roles=_PARTICIPANTS,
)
async def call_ticket(ctx: Ctx) -> CallTicketOut:
    settings = ctx.settings
    now = ctx.clock.now()
    consultation_id = ctx.path_id()
    access = await service.check_access(ctx.session, ctx.me, consultation_id, now)
    ticket = await service.issue_ticket(
        ctx.session, ctx.me, consultation_id, now, settings.call_ticket_seconds
    )
    servers = ice_servers(
        settings.stun_urls,
        settings.turn_urls,
        settings.turn_secret,
        str(ctx.me.id),
        now,
        settings.turn_ttl_seconds,
    )
    url = f"{_ws_base(ctx.request)}{PREFIX}/consultations/{consultation_id}/signal?ticket={ticket}"
    return CallTicketOut(
        ice_servers=servers,
        ws_url=url,
        mode=service.call_mode(settings, access.options),
        expires_in=settings.call_ticket_seconds,
    )


@router.post(
    "/consultations/{id}/call/options",
    summary="Choose the call's media mode; invite the patient",
    body=CallOptionsIn,
    response=CallOptionsOut,
    roles=[Role.gp, Role.specialist],
)
async def call_options(ctx: Ctx) -> CallOptionsOut:
    options = await service.set_options(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, ctx.clock.now()
    )
    return CallOptionsOut(
        mode=service.call_mode(ctx.settings, options),
        patient_invited=options.patient_invited,
        record=options.record,
    )


@router.post(
    "/consultations/{id}/call/recording-consent",
    summary="The patient allows (or forbids) recording the call",
    body=RecordingConsentIn,
    response=CallOptionsOut,
    roles=[Role.patient],
)
async def recording_consent(ctx: Ctx) -> CallOptionsOut:
    options = await service.set_recording_consent(
        ctx.session, ctx.me, ctx.path_id(), ctx.body.granted, ctx.clock.now()
    )
    return CallOptionsOut(
        mode=service.call_mode(ctx.settings, options),
        patient_invited=options.patient_invited,
        record=options.record,
    )


async def signal_ws(request: web.Request) -> web.StreamResponse:
    """The signaling websocket; the one-time ticket in the URL is its only credential."""
    app = request.app
    try:
        consultation_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound() from None
    ticket = request.query.get("ticket", "")
    peer_id = new_peer_id()
    async with unit_of_work(app[SESSIONMAKER]) as session:
        now = app[CLOCK].now()
        user = await service.redeem_ticket(session, consultation_id, ticket, now)
        access = await service.join_call(session, app[BUS], user, consultation_id, peer_id, now)
        mode = service.call_mode(app[SETTINGS], access.options)
        record = access.options is not None and access.options.record
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_SDP_BYTES + 16 * 1024)
    try:
        await ws.prepare(request)
        me = PeerInfo(peer_id=peer_id, role=user.role, user_id=str(user.id))
        await app[CALL_HUB].serve(ws, str(consultation_id), me, mode, record)
    finally:
        # aiohttp cancels the handler when the client vanishes; the leave time must survive.
        await asyncio.shield(_record_leave(app, peer_id))
    return ws


async def _record_leave(app: web.Application, peer_id: str) -> None:
    async with unit_of_work(app[SESSIONMAKER]) as session:
        await service.leave_call(session, peer_id, app[CLOCK].now())


def setup_calls(app: web.Application, web_root: Path) -> None:
    """The signaling route, the call page, and the hub and gateway opened with the app."""

    async def resources(app: web.Application) -> AsyncIterator[None]:
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
            from .gateway import MediaGateway  # aiortc and PyAV load with the first relay call

            return MediaGateway(settings, announce_recording)

        app[CALL_GATEWAY] = LazyGateway(open_gateway)

        async def close_stale(peer_id: str) -> None:
            await _record_leave(app, peer_id)

        app[CALL_HUB] = SignalingHub(
            app[BUS], presence_for(app[BUS]), settings, app[CALL_GATEWAY], close_stale
        )
        yield
        await app[CALL_HUB].close()
        await app[CALL_GATEWAY].close()

    app.cleanup_ctx.append(resources)
    app.router.add_get(PREFIX + "/consultations/{id}/signal", signal_ws)
    page = web_root / "call.html"

    async def call_page(_: web.Request) -> web.FileResponse:
        return web.FileResponse(page)

    if page.is_file():
        app.router.add_get("/call/{id}", call_page)
