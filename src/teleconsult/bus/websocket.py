"""A websocket that lives on the bus is refused, clearly, while the bus is away."""

from __future__ import annotations

import logging

from aiohttp import web

from .base import CLOSE_TRY_AGAIN_LATER, BusUnavailable, EventBus

log = logging.getLogger("teleconsult.bus")


async def refused_while_away(
    request: web.Request, bus: EventBus, what: str
) -> web.WebSocketResponse | None:
    """``None`` when the bus answers a ping; otherwise the websocket, accepted and closed at
    once with 1013 (try again later) and a reason. Called before anything is spent (a call
    ticket), so that the same request works once the bus is back."""
    try:
        await bus.ping()
    except BusUnavailable as exc:
        log.warning("%s refused while the bus is away: %s", what, exc)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close(code=CLOSE_TRY_AGAIN_LATER, message=f"{what} unavailable".encode())
        return ws
    return None
