"""Signaling between two app instances sharing Redis: who hears a participant's message."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from teleconsult.appkeys import CALL_HUB
from teleconsult.bus import CLOSE_TRY_AGAIN_LATER
from teleconsult.calls.presence import MemoryPresence, PeerInfo, RedisPresence
from teleconsult.clock import FakeClock
from teleconsult.config import Settings

from ..callkit import booked_call, until
from ..conftest import (
    REDIS_URL_ENV,
    Database,
    app_on_redis,
    make_settings,
    redis_answers,
    service_url,
)
from ..factories import Api

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]


@pytest.fixture
def settings(database: Database, tmp_path: Any) -> Settings:
    return make_settings(
        database.url, tmp_path / "data", redis_url=service_url(REDIS_URL_ENV, "Redis")
    )


@pytest.fixture
async def second(
    aiohttp_client: Any, settings: Settings, clock: FakeClock, database: Database
) -> Any:
    """A second app instance on the same database and Redis: another process, in effect."""
    from teleconsult.app import create_app

    return await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))


class Wiretap:
    """Every message Redis carries on a call's channels."""

    def __init__(self, url: str, cid: str) -> None:
        self.redis = Redis.from_url(url)
        self.pubsub = self.redis.pubsub()
        self.pattern = f"call:{cid}*"
        self.heard: list[tuple[str, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Wiretap:
        await self.pubsub.psubscribe(self.pattern)
        confirmed = await self.pubsub.get_message(timeout=5)
        assert confirmed is not None and confirmed["type"] == "psubscribe"

        async def listen() -> None:
            async for raw in self.pubsub.listen():
                if raw["type"] == "pmessage":
                    self.heard.append((raw["channel"].decode(), json.loads(raw["data"])))

        self._task = asyncio.create_task(listen())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await self.pubsub.aclose()
        await self.redis.aclose()

    def signals(self) -> list[tuple[str, dict[str, Any]]]:
        return [(ch, m) for ch, m in self.heard if m.get("kind") == "signal"]


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=5)
        if message["type"] == kind:
            return message


async def test_a_message_goes_once_and_only_to_the_process_of_its_recipient(
    client: Any, second: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    node_a = client.server.app[CALL_HUB].origin
    node_b = second.server.app[CALL_HUB].origin
    specialist_on_b = Api(second, w.specialist.token, w.specialist.user)
    _, gp_call = await w.gp.get(f"/consultations/{cid}/call")
    _, sp_call = await specialist_on_b.get(f"/consultations/{cid}/call")
    assert settings.redis_url is not None
    async with (
        Wiretap(settings.redis_url, cid) as tap,
        client.session.ws_connect(gp_call["ws_url"]) as gp,
        second.session.ws_connect(sp_call["ws_url"]) as sp,
    ):
        gp_id = (await gp.receive_json(timeout=5))["peer_id"]
        sp_welcome = await sp.receive_json(timeout=5)
        sp_id = sp_welcome["peer_id"]
        assert [(p["peer_id"], p["role"]) for p in sp_welcome["peers"]] == [(gp_id, "gp")]
        await next_of(gp, "peer-joined")

        # To everyone (no "to"): the GP on the other process gets it, sent there alone.
        await sp.send_json({"type": "candidate", "candidate": {"candidate": "c1"}})
        got = await next_of(gp, "candidate")
        assert got == {"type": "candidate", "candidate": {"candidate": "c1"}, "from": sp_id}
        # To one participant: the answer goes back to the specialist's process only.
        await gp.send_json({"type": "answer", "sdp": "v=0\r\n", "to": sp_id})
        got = await next_of(sp, "answer")
        assert got == {"type": "answer", "sdp": "v=0\r\n", "from": gp_id}

        # Nobody hears their own message back, and no process hears another's mail.
        await until(lambda: len(tap.signals()) >= 2)
        assert [ch for ch, _ in tap.signals()] == [f"call:{cid}:{node_a}", f"call:{cid}:{node_b}"]

        # A recipient nobody knows: the room's channel carries it, and it reaches no one.
        await gp.send_json({"type": "offer", "sdp": "v=0\r\n", "to": "nobody"})
        await gp.send_json({"type": "candidate", "candidate": None, "to": sp_id})
        got = await next_of(sp, "candidate")
        assert got == {"type": "candidate", "candidate": None, "from": gp_id}
        await until(lambda: len(tap.signals()) >= 4)
        assert [ch for ch, _ in tap.signals()][2:] == [f"call:{cid}", f"call:{cid}:{node_b}"]


async def test_entering_lists_who_is_there_and_forgets_the_expired() -> None:
    """``enter`` adds and lists in one round trip; both presences agree on what it returns."""
    redis = Redis.from_url(service_url(REDIS_URL_ENV, "Redis"))
    room = f"test-room-{uuid.uuid4().hex}"
    gp = PeerInfo("a", "gp", "u1", "node-1")
    gone = PeerInfo("b", "specialist", "u2", "node-2")
    patient = PeerInfo("c", "patient", "u3", "node-2")
    try:
        for presence in (MemoryPresence(), RedisPresence(redis)):
            await presence.add(room, gp, ttl=60)
            await presence.add(room, gone, ttl=-1)
            assert await presence.enter(room, patient, ttl=60) == [gp, patient]
            assert await presence.peers(room) == [gp, patient]
        assert await redis.hkeys(f"call-presence:{room}") in ([b"a", b"c"], [b"c", b"a"])
    finally:
        await redis.delete(f"call-presence:{room}")
        await redis.aclose()


async def test_signaling_while_redis_is_away_says_try_again_later_and_keeps_the_ticket(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    tmp_path: Any,
    own_redis: tuple[str, Any],
) -> None:
    url, server = own_redis
    client = await app_on_redis(url, aiohttp_client, database, clock, tmp_path)
    w, cid = await booked_call(client, database.engine, clock.now())
    _, call = await w.gp.get(f"/consultations/{cid}/call")
    server.stop()
    for _ in range(2):
        async with client.session.ws_connect(call["ws_url"]) as ws:
            msg = await ws.receive(timeout=10)
            assert msg.type == aiohttp.WSMsgType.CLOSE, msg
            assert ws.close_code == CLOSE_TRY_AGAIN_LATER
            assert msg.extra == "call signaling unavailable"
    # Redis back: the same ticket opens the call (it was not spent), once.
    server.start()
    await redis_answers(url)
    async with client.session.ws_connect(call["ws_url"]) as ws:
        welcome = await ws.receive_json(timeout=10)
        assert welcome["type"] == "welcome", welcome
    with pytest.raises(aiohttp.WSServerHandshakeError) as spent:
        await client.session.ws_connect(call["ws_url"])
    assert spent.value.status == 401
