"""``GET /consultations/{id}/call``, call options, and ``WS /consultations/{id}/signal``.

The hub and the gateway the websocket handler uses are opened with the app (``app.py``).
"""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from ..accounts.auth import set_session_cookies, token_hash
from ..accounts.sessions import closed_when_session_ends
from ..api import PREFIX, Ctx, Router
from ..appkeys import BUS, CALL_HUB, CLOCK, METRICS, REQUEST_TOKEN, SESSIONMAKER, SETTINGS
from ..bus.websocket import refused_while_away
from ..codes import Role
from ..db.uow import unit_of_work
from ..errors import NotFound, field_error
from ..files.models import StoredFile
from . import chat, links, service
from .models import ChatMessage
from .presence import PeerInfo
from .rules import MAX_SDP_BYTES, ice_servers, new_peer_id
from .schemas import (
    CallLinkIn,
    CallOptionsIn,
    CallOptionsOut,
    CallSessionOut,
    CallTicketOut,
    ChatFileOut,
    ChatIn,
    ChatMessageOut,
    ChatPageOut,
    RecordingConsentIn,
    ToAsyncOut,
)

router = Router("calls")

_PARTICIPANTS = [Role.gp, Role.specialist, Role.patient, Role.admin]


def _ws_base(ctx: Ctx) -> str:
    return "ws" + ctx.base_url.removeprefix("http")


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
        ctx.session,
        ctx.me,
        consultation_id,
        now,
        settings.call_ticket_seconds,
        session_hash=token_hash(ctx.request[REQUEST_TOKEN]),
    )
    servers = ice_servers(
        settings.stun_urls,
        settings.turn_urls,
        settings.turn_secret,
        str(ctx.me.id),
        now,
        settings.turn_ttl_seconds,
    )
    url = f"{_ws_base(ctx)}{PREFIX}/consultations/{consultation_id}/signal?ticket={ticket}"
    return CallTicketOut(
        ice_servers=servers,
        ws_url=url,
        mode=service.call_mode(settings, access.options),
        expires_in=settings.call_ticket_seconds,
        ice_transport_policy=settings.ice_transport_policy,
    )


@router.get(
    "/consultations/{id}/call/options",
    summary="The call's media mode and whether the patient is invited (its GP or specialist)",
    response=CallOptionsOut,
    roles=[Role.gp, Role.specialist],
    read_only=True,
)
async def read_call_options(ctx: Ctx) -> CallOptionsOut:
    options, sms_to = await service.get_options(ctx.session, ctx.me, ctx.path_id())
    return CallOptionsOut(
        mode=service.call_mode(ctx.settings, options),
        patient_invited=bool(options and options.patient_invited),
        record=bool(options and options.record),
        patient_sms_to=sms_to,
    )


@router.post(
    "/consultations/{id}/call/options",
    summary="Choose the call's media mode; invite the patient",
    body=CallOptionsIn,
    response=CallOptionsOut,
    roles=[Role.gp, Role.specialist],
)
async def call_options(ctx: Ctx) -> CallOptionsOut:
    options, sms_to = await service.set_options(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, ctx.clock.now(), ctx.base_url, ctx.client
    )
    return CallOptionsOut(
        mode=service.call_mode(ctx.settings, options),
        patient_invited=options.patient_invited,
        record=options.record,
        patient_sms_to=sms_to,
    )


@router.post(
    "/consultations/{id}/call-link",
    summary="Join from a phone with the one-time link sent when the call opened: "
    "a session for this call only",
    body=CallLinkIn,
    response=CallSessionOut,
    public=True,
)
async def call_link(ctx: Ctx) -> web.Response:
    opened = await links.redeem(
        ctx.session, ctx.path_id(), ctx.body.token, now=ctx.clock.now(), client=ctx.client
    )
    out = CallSessionOut(
        token=opened.token, expires_at=opened.expires_at, consultation_id=opened.consultation_id
    )
    response = web.json_response(out.model_dump(mode="json"))
    max_age = max(int((opened.expires_at - ctx.clock.now()).total_seconds()), 0)
    set_session_cookies(response, opened.token, ctx.settings, max_age)
    return response


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


def _chat_out(message: ChatMessage, f: StoredFile | None, me: uuid.UUID) -> ChatMessageOut:
    file = chat.file_out(f)
    return ChatMessageOut(
        file=None if file is None else ChatFileOut.model_validate(file),
        id=message.id,
        author_id=message.author_id,
        author_role=message.author_role,
        mine=message.author_id == me,
        text=message.text,
        created_at=message.created_at,
    )


@router.get(
    "/consultations/{id}/chat",
    summary="The consultation's chat messages, oldest first (participants only)",
    response=ChatPageOut,
    roles=[Role.gp, Role.specialist, Role.patient],
    read_only=True,
)
async def chat_messages(ctx: Ctx) -> ChatPageOut:
    found = await chat.messages(ctx.session, ctx.me, ctx.path_id())
    return ChatPageOut(items=[_chat_out(m, f, ctx.me.id) for m, f in found])


@router.post(
    "/consultations/{id}/chat",
    summary="Write a chat message in the consultation (participants only)",
    body=ChatIn,
    response=ChatMessageOut,
    roles=[Role.gp, Role.specialist, Role.patient],
    status=201,
)
async def chat_post(ctx: Ctx) -> ChatMessageOut:
    text = ctx.body.text.strip()
    if not text and ctx.body.file_id is None:
        raise field_error("text", "a message cannot be empty", "missing")
    message, f = await chat.post_message(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        text,
        ctx.clock.now(),
        file_id=ctx.body.file_id,
        client=ctx.client,
    )
    return _chat_out(message, f, ctx.me.id)


@router.post(
    "/consultations/{id}/to-async",
    summary="Turn a video consultation whose call fails into an async case (its GP or specialist)",
    response=ToAsyncOut,
    roles=[Role.gp, Role.specialist],
)
async def to_async(ctx: Ctx) -> ToAsyncOut:
    consultation = await chat.to_async(
        ctx.session, ctx.request.app[BUS], ctx.me, ctx.path_id(), ctx.clock.now()
    )
    return ToAsyncOut(id=consultation.id, mode=consultation.mode, status=consultation.status)


async def signal_ws(request: web.Request) -> web.StreamResponse:
    """The signaling websocket; the one-time ticket in the URL is its only credential."""
    app = request.app
    try:
        consultation_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound(code="not_found") from None
    ticket = request.query.get("ticket", "")
    # Before the ticket is redeemed: while the bus is away it is not spent (1013, try again).
    refused = await refused_while_away(request, app[BUS], "call signaling")
    if refused is not None:
        return refused
    peer_id = new_peer_id()
    async with unit_of_work(app[SESSIONMAKER]) as session:
        now = app[CLOCK].now()
        holder = await service.redeem_ticket(session, consultation_id, ticket, now)
        user = holder.user
        access = await service.join_call(session, app[BUS], user, consultation_id, peer_id, now)
        mode = service.call_mode(app[SETTINGS], access.options)
        record = access.options is not None and access.options.record
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_SDP_BYTES + 16 * 1024)
    try:
        await ws.prepare(request)
        me = PeerInfo(peer_id=peer_id, role=user.role, user_id=str(user.id))
        with app[METRICS].websockets.labels("signal").track_inprogress():
            async with closed_when_session_ends(app[BUS], ws, user.id, holder.session_hash):
                await app[CALL_HUB].serve(ws, str(consultation_id), me, mode, record)
    finally:
        # aiohttp cancels the handler when the client vanishes; the leave time must survive.
        await asyncio.shield(_record_leave(app, peer_id))
    return ws


async def _record_leave(app: web.Application, peer_id: str) -> None:
    async with unit_of_work(app[SESSIONMAKER]) as session:
        await service.leave_call(session, peer_id, app[CLOCK].now())
