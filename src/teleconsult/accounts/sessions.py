"""A signed-in session's end reaches its open websockets: logout and a disabled account close
the live-queue and call connections within moments, in every process (through the bus).

The announcement carries the ended token's hash (never the token) on the user's own channel;
a connection opened under that session, or any connection of a disabled account, closes
with code 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from ..bus import EventBus
from ..bus.outbox import enqueue

SESSION_ENDED = "session.ended"
ACCOUNT_DISABLED = "account.disabled"
CLOSE_SESSION_ENDED = 4401


def user_channel(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}"


def announce_session_end(session: AsyncSession, user_id: uuid.UUID, token_hash: str) -> None:
    """Once the logout commits, tell the user's connections opened under this session."""
    enqueue(session, user_channel(user_id), {"type": SESSION_ENDED, "session": token_hash})


def announce_disabled(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Once disabling the account commits, tell every connection of the user."""
    enqueue(session, user_channel(user_id), {"type": ACCOUNT_DISABLED})


def ends(message: Any, session_hash: str | None) -> bool:
    """Whether a message on the user's channel ends a connection of the session given."""
    if not isinstance(message, dict):
        return False
    if message.get("type") == ACCOUNT_DISABLED:
        return True
    return message.get("type") == SESSION_ENDED and message.get("session") == session_hash


def about_sessions(message: Any) -> bool:
    """A message of this module's, for the server alone (never forwarded to a page)."""
    return isinstance(message, dict) and message.get("type") in (SESSION_ENDED, ACCOUNT_DISABLED)


async def close_for_session_end(ws: web.WebSocketResponse) -> None:
    await ws.close(code=CLOSE_SESSION_ENDED, message=b"session ended")


@asynccontextmanager
async def closed_when_session_ends(
    bus: EventBus, ws: web.WebSocketResponse, user_id: uuid.UUID, session_hash: str | None
) -> AsyncIterator[None]:
    """While the block runs, close ``ws`` when its session or the account ends."""
    subscription = await bus.subscribe(user_channel(user_id))

    async def watch() -> None:
        async for message in subscription:
            if ends(message, session_hash):
                await close_for_session_end(ws)
                return

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await subscription.close()
