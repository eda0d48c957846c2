"""The transactional outbox: with Redis down, a booking is committed and answered 201 once,
its event waits in the outbox, and it reaches the live queues when Redis is back."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from teleconsult.bus import CLOSE_TRY_AGAIN_LATER
from teleconsult.bus.outbox import OutboxEvent
from teleconsult.bus.redis import RedisBus
from teleconsult.clock import FakeClock
from teleconsult.consultations.models import Consultation

from ..conftest import Database, app_on_redis, redis_answers
from ..factories import availability, world


async def _count(database: Database, model: Any) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.redis
async def test_a_booking_made_while_redis_is_down_is_answered_once_and_announced_later(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    tmp_path: Any,
    own_redis: tuple[str, Any],
) -> None:
    url, server = own_redis
    client = await app_on_redis(url, aiohttp_client, database, clock, tmp_path)
    w = await world(client, database.engine)
    await availability(w.specialist, clock.now().replace(microsecond=0), hours=2)
    server.stop()
    status, booked = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Chest pain"},
    )
    assert status == 201, booked
    assert await _count(database, Consultation) == 1
    # The event is kept, not lost and not an error, and the operator sees it waiting.
    assert await _count(database, OutboxEvent) >= 1
    for _ in range(50):
        scraped = await (await client.get("/metrics")).text()
        waiting = [
            s.value
            for f in text_string_to_metric_families(scraped)
            for s in f.samples
            if s.name == "teleconsult_outbox_waiting"
        ]
        if waiting and waiting[0] >= 1:
            break
        await asyncio.sleep(0.1)
    assert waiting and waiting[0] >= 1

    # Redis back: the relay delivers what waited (it retries with a back-off) and the outbox
    # empties; a live queue opened now gets the next booking's event at once.
    server.start()
    for _ in range(300):
        if await _count(database, OutboxEvent) == 0:
            break
        await asyncio.sleep(0.1)
    assert await _count(database, OutboxEvent) == 0
    assert await _count(database, Consultation) == 1
    listener = RedisBus(url)
    queue = await listener.subscribe("queue:cardiology")
    status, again = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Follow-up"},
    )
    assert status == 201, again
    event = await asyncio.wait_for(anext(aiter(queue)), timeout=10)
    assert event["consultation_id"] == again["id"] and event["event"] == "booked"
    await queue.close()
    await listener.close()


@pytest.mark.redis
async def test_the_live_queue_closes_clearly_while_redis_is_down(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    tmp_path: Any,
    own_redis: tuple[str, Any],
) -> None:
    url, server = own_redis
    client = await app_on_redis(url, aiohttp_client, database, clock, tmp_path)
    w = await world(client, database.engine)
    server.stop()
    ws = await client.ws_connect("/api/v1/events", headers=w.specialist.headers())
    msg = await ws.receive(timeout=30)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
    assert ws.close_code == CLOSE_TRY_AGAIN_LATER
    assert msg.extra == "live updates unavailable"
    # Redis back: the live queue opens again.
    server.start()
    await redis_answers(url)
    async with client.ws_connect("/api/v1/events", headers=w.specialist.headers()) as ws:
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
