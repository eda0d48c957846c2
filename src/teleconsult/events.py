"""``WS /api/v1/events``: live queue updates for the caller, fed by the event bus."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web

from .accounts.auth import authenticate, token_hash
from .accounts.service import specialties_of
from .accounts.sessions import about_sessions, close_for_session_end, ends
from .appkeys import BUS, METRICS, REQUEST_TOKEN, SESSIONMAKER
from .bus import CLOSE_TRY_AGAIN_LATER
from .bus.websocket import refused_while_away
from .codes import Role
from .db.uow import unit_of_work

log = logging.getLogger("teleconsult.events")
__all__ = ["CLOSE_TRY_AGAIN_LATER", "events_ws"]


async def events_ws(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request.app[SESSIONMAKER]) as session:
        user = await authenticate(request, session)
        channels = [f"user:{user.id}"]
        if user.role == Role.specialist:
            channels += [f"queue:{s}" for s in await specialties_of(session, user.id)]
        elif user.role == Role.admin:
            channels.append("admin")
    refused = await refused_while_away(request, request.app[BUS], "live updates")
    if refused is not None:
        return refused
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    try:
        subscription = await request.app[BUS].subscribe(*channels)
    except Exception as exc:
        # The bus is away (Redis down): say so in the close, and let the page try again.
        log.warning("live updates unavailable: %s", type(exc).__name__)
        await ws.close(code=CLOSE_TRY_AGAIN_LATER, message=b"live updates unavailable")
        return ws

    session_hash = token_hash(request[REQUEST_TOKEN])

    async def forward() -> None:
        async for message in subscription:
            if ends(message, session_hash):
                await close_for_session_end(ws)
                return
            if not about_sessions(message):
                await ws.send_json(message)

    forwarder = asyncio.create_task(forward())
    open_now = request.app[METRICS].websockets.labels("events")
    open_now.inc()
    try:
        await ws.send_json({"type": "hello", "channels": channels})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str("pong")
    finally:
        forwarder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forwarder
        await subscription.close()
        open_now.dec()
    return ws
