from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from teleconsult.clock import FakeClock
from teleconsult.consultations.models import Consultation

from ..conftest import Database
from ..factories import availability, book, patient, world


async def test_book_specific_slot_then_cancel_frees_it(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    await availability(w.specialist, start, hours=1)
    status, page = await w.gp.get("/slots", specialty="cardiology")
    assert status == 200
    assert [s["starts_at"] for s in page["items"]] == sorted(s["starts_at"] for s in page["items"])
    assert len(page["items"]) == 3
    slot = page["items"][0]

    status, booked = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "video",
            "urgency": "routine",
            "reason": "chest pain on exertion",
            "slot_id": slot["id"],
        },
    )
    assert status == 201, booked
    assert booked["status"] == "scheduled"
    assert booked["specialist_id"] == w.specialist.id
    assert booked["starts_at"] == slot["starts_at"]

    status, page = await w.gp.get("/slots", specialty="cardiology")
    assert slot["id"] not in {s["id"] for s in page["items"]}

    status, again = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "reason": "again",
            "slot_id": slot["id"],
        },
    )
    assert status == 409, again
    assert again["error"] == "SlotTaken"

    status, cancelled = await w.gp.post(f"/consultations/{booked['id']}/cancel")
    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled"
    status, page = await w.gp.get("/slots", specialty="cardiology")
    assert slot["id"] in {s["id"] for s in page["items"]}


async def test_a_slot_beginning_now_is_neither_listed_nor_taken_as_the_earliest(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """A slot that begins this very instant has begun: booking refuses it, so the list of
    free slots does not offer it and "the earliest free slot" takes the next one."""
    w = await world(client, database.engine)
    now = clock.now().replace(microsecond=0)
    clock.set(now)
    await availability(w.specialist, now, hours=1)
    status, page = await w.gp.get("/slots", specialty="cardiology")
    assert status == 200, page
    starts = [s["starts_at"] for s in page["items"]]
    assert [datetime.fromisoformat(s) for s in starts] == [
        now + timedelta(minutes=m) for m in (20, 40)
    ], starts
    await book(w, slot_id=page["items"][0]["id"])
    earliest = await book(w)
    assert earliest["starts_at"] == starts[1], earliest


async def test_fifty_concurrent_bookings_of_one_slot_give_one_winner(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    await availability(w.specialist, start, hours=1)
    _, page = await w.gp.get("/slots", specialty="cardiology")
    slot_id = page["items"][0]["id"]
    patients = [await patient(w.gp) for _ in range(5)]

    async def book(i: int) -> int:
        status, _ = await w.gp.post(
            "/consultations",
            {
                "patient_id": patients[i % 5],
                "specialty": "cardiology",
                "reason": f"case {i}",
                "slot_id": slot_id,
            },
        )
        return status

    statuses = await asyncio.gather(*(book(i) for i in range(50)))
    assert sorted(statuses).count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses
    async with database.engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count())
            .select_from(Consultation)
            .where(Consultation.slot_id == uuid.UUID(slot_id))
        )
    assert rows == 1


async def test_concurrent_earliest_free_bookings_each_get_a_slot(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    await availability(w.specialist, start, hours=10)  # 30 free slots
    patients = [await patient(w.gp) for _ in range(20)]

    async def book(i: int) -> tuple[int, Any]:
        return await w.gp.post(
            "/consultations",
            {"patient_id": patients[i], "specialty": "cardiology", "reason": f"case {i}"},
        )

    results = await asyncio.gather(*(book(i) for i in range(20)))
    assert [status for status, _ in results] == [201] * 20, results
    slots = {body["slot_id"] for _, body in results}
    assert len(slots) == 20
    # The earliest slots went first: the twenty taken are the first twenty of the day.
    _, page = await w.gp.get("/slots", specialty="cardiology", limit=50)
    left = sorted(s["starts_at"] for s in page["items"])
    taken = sorted(body["starts_at"] for _, body in results)
    assert len(left) == 10 and max(taken) < min(left)
