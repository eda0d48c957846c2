"""Websockets end when the session does: logout and a disabled account close them at once."""

from __future__ import annotations

from typing import Any

import aiohttp

from teleconsult.accounts.sessions import CLOSE_SESSION_ENDED
from teleconsult.clock import FakeClock

from ..callkit import booked_call
from ..conftest import Database
from ..factories import login, world


async def _closed(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    # Anything else the server sends first (hello, queue events) is read past.
    for _ in range(20):
        msg = await ws.receive(timeout=5.0)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code
    return None


async def test_logout_closes_the_live_queue_of_that_session_only(
    client: Any, database: Database
) -> None:
    w = await world(client, database.engine)
    other_session = await login(client, w.specialist.user["username"])
    ws = await client.ws_connect("/api/v1/events", headers=w.specialist.headers())
    kept = await client.ws_connect("/api/v1/events", headers=other_session.headers())
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    assert (await kept.receive_json(timeout=5))["type"] == "hello"
    status, _ = await w.specialist.post("/auth/logout")
    assert status == 200
    assert await _closed(ws) == CLOSE_SESSION_ENDED
    # The same person's other session goes on.
    await kept.send_str("ping")
    assert (await kept.receive(timeout=5)).data == "pong"
    await kept.close()


async def test_disabling_an_account_closes_its_queue_and_its_call(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    events = await client.ws_connect("/api/v1/events", headers=w.gp.headers())
    assert (await events.receive_json(timeout=5))["type"] == "hello"
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200, call
    signal = await client.session.ws_connect(call["ws_url"])
    assert (await signal.receive_json(timeout=5))["type"] == "welcome"
    status, _ = await w.admin.post(f"/users/{w.gp.id}/status", {"is_active": False})
    assert status == 200
    assert await _closed(events) == CLOSE_SESSION_ENDED
    assert await _closed(signal) == CLOSE_SESSION_ENDED


async def test_logout_ends_the_call_opened_under_that_session(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    status, call = await w.specialist.get(f"/consultations/{cid}/call")
    assert status == 200, call
    signal = await client.session.ws_connect(call["ws_url"])
    assert (await signal.receive_json(timeout=5))["type"] == "welcome"
    status, _ = await w.specialist.post("/auth/logout")
    assert status == 200
    assert await _closed(signal) == CLOSE_SESSION_ENDED
