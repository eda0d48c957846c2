"""Join and leave times feed the statistics: a call lasts as long as two people were in it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from teleconsult.calls.models import CallParticipation
from teleconsult.clock import FakeClock
from teleconsult.consultations.models import Consultation

from ..callkit import until_async
from ..conftest import Database
from ..factories import Api, availability, patient, world

CALLS = 5  # fewer would be shown as "<5"


async def _book(w: Any, clock: FakeClock) -> list[tuple[str, datetime]]:
    start = clock.now().replace(second=0, microsecond=0) + timedelta(hours=1)
    await availability(w.specialist, start, hours=2)
    booked = []
    for i in range(CALLS):
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": await patient(w.gp),
                "specialty": "cardiology",
                "mode": "video",
                "reason": f"case {i}",
            },
        )
        assert status == 201, body
        booked.append((body["id"], datetime.fromisoformat(body["starts_at"])))
    return sorted(booked, key=lambda b: b[1])


async def _join(client: Any, caller: Api, cid: str) -> tuple[Any, str]:
    status, call = await caller.get(f"/consultations/{cid}/call")
    assert status == 200, call
    ws = await client.session.ws_connect(call["ws_url"])
    welcome = await ws.receive_json(timeout=5)
    return ws, welcome["peer_id"]


async def _leave(ws: Any, peer_id: str, database: Database) -> None:
    """Hang up, and wait until the server has written down the leaving time."""
    await ws.close()

    async def recorded() -> bool:
        async with database.engine.connect() as conn:
            left = await conn.scalar(
                select(CallParticipation.left_at).where(CallParticipation.peer_id == peer_id)
            )
        return left is not None

    await until_async(recorded, within=10)


async def test_statistics_count_the_time_two_people_were_connected(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    booked = await _book(w, clock)
    for cid, starts_at in booked:
        clock.advance(seconds=(starts_at - clock.now()).total_seconds())
        # The GP waits a minute alone; the specialist stays ten; the GP lingers two more;
        # the specialist completes the consultation fifteen minutes after it started.
        gp, gp_peer = await _join(client, w.gp, cid)
        clock.advance(minutes=1)
        specialist, specialist_peer = await _join(client, w.specialist, cid)
        clock.advance(minutes=10)
        await _leave(specialist, specialist_peer, database)
        clock.advance(minutes=2)
        await _leave(gp, gp_peer, database)
        clock.advance(minutes=2)
        status, body = await w.specialist.post(
            f"/consultations/{cid}/complete", {"conclusion": "Reviewed."}
        )
        assert status == 200, body

    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Consultation.started_at, Consultation.ended_at, Consultation.call_seconds)
            )
        ).all()
    assert len(rows) == CALLS
    for started, ended, seconds in rows:
        assert ended - started == timedelta(minutes=15)
        assert seconds == 10 * 60

    status, report = await w.admin.get("/stats/specialties")
    assert status == 200, report
    [row] = report["items"]
    assert row["completed"] == CALLS
    assert abs(row["duration_median_s"] - 600) <= 600 * report["percentile_error"]["relative"]


async def test_a_call_never_joined_falls_back_to_started_to_ended(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    [(cid, starts_at), *_] = await _book(w, clock)
    clock.advance(seconds=(starts_at - clock.now()).total_seconds())
    status, body = await w.specialist.post(f"/consultations/{cid}/start")
    assert status == 200, body
    clock.advance(minutes=12)
    status, body = await w.specialist.post(
        f"/consultations/{cid}/complete", {"conclusion": "Reviewed."}
    )
    assert status == 200, body
    async with database.engine.connect() as conn:
        seconds = await conn.scalar(
            select(Consultation.call_seconds).where(Consultation.id == uuid.UUID(cid))
        )
    assert seconds is None
