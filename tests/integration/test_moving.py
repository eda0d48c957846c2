"""Moving a booked video call to another slot of its specialist: the old slot is freed and
the new one taken under booking's slot rule, by its GP or specialist only, idempotently,
audited, announced to the queues, and never counted as a new booking."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from teleconsult.appkeys import BUS
from teleconsult.clock import FakeClock
from teleconsult.consent.models import ConsentRequest
from teleconsult.consultations.models import Consultation

from ..conftest import Database
from ..factories import availability, book_video_calls, facility, patient, user, world
from .passport_support import patient_account, relogin


async def _booked(client: Any, database: Database, clock: FakeClock) -> tuple[Any, list[Any], Any]:
    """A world, the specialist's six free slots tomorrow, and a call booked in the first."""
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    await availability(w.specialist, start, hours=2)
    _, page = await w.gp.get("/slots", specialist_id=w.specialist.id)
    slots = page["items"]
    status, booked = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "reason": "chest pain on exertion",
            "slot_id": slots[0]["id"],
        },
    )
    assert status == 201, booked
    return w, slots, booked


async def _free_ids(api: Any, specialist_id: str) -> set[str]:
    status, page = await api.get("/slots", specialist_id=specialist_id, limit=50)
    assert status == 200, page
    return {s["id"] for s in page["items"]}


async def test_the_gp_moves_a_booked_call_and_the_old_slot_is_free_again(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, slots, booked = await _booked(client, database, clock)
    events = await client.app[BUS].subscribe(f"user:{w.specialist.id}")

    status, moved = await w.gp.post(
        f"/consultations/{booked['id']}/move", {"slot_id": slots[3]["id"]}
    )
    assert status == 200, moved
    assert moved["id"] == booked["id"] and moved["status"] == "scheduled"
    assert moved["slot_id"] == slots[3]["id"]
    assert moved["starts_at"] == slots[3]["starts_at"]
    assert moved["reason"] == booked["reason"] and moved["created_at"] == booked["created_at"]
    free = await _free_ids(w.gp, w.specialist.id)
    assert slots[0]["id"] in free and slots[3]["id"] not in free

    async def moved_event() -> dict[str, Any]:
        async for event in events:  # the booking's own event may come first
            if event["event"] == "moved":
                return dict(event)
        raise AssertionError("no event")

    event = await asyncio.wait_for(moved_event(), timeout=10)
    assert event["consultation_id"] == booked["id"] and event["status"] == "scheduled"
    await events.close()

    # The specialist moves it too; without a slot, to their earliest free one (the first).
    status, earliest = await w.specialist.post(f"/consultations/{booked['id']}/move")
    assert status == 200, earliest
    assert earliest["slot_id"] == slots[0]["id"]
    assert slots[3]["id"] in await _free_ids(w.gp, w.specialist.id)

    # One consultation, one consent request that waits until 72 h after the new end.
    async with database.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(Consultation))
        [request] = (
            await conn.execute(select(ConsentRequest.status, ConsentRequest.expires_at))
        ).all()
    assert count == 1
    ends = datetime.fromisoformat(earliest["ends_at"])
    assert request.status == "pending"
    assert request.expires_at.replace(tzinfo=UTC) == ends + timedelta(hours=72)

    # Audited in the patient's chain, as booking's consent request is.
    patient = await patient_account(w.admin, w.patient_id)
    status, log = await patient.get(f"/patients/{w.patient_id}/access-log")
    assert status == 200, log
    moves = [e for e in log["items"] if e["action"] == "consultation.move"]
    assert len(moves) == 2
    assert {e["actor_id"] for e in moves} == {w.gp.id, w.specialist.id}
    assert {e["event"] for e in moves} == {"consultation_move"}
    assert {datetime.fromisoformat(e["details"]["moved_to"]) for e in moves} == {
        datetime.fromisoformat(moved["starts_at"]),
        datetime.fromisoformat(earliest["starts_at"]),
    }


async def test_a_move_is_not_a_new_booking_in_the_statistics(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    await availability(w.specialist, clock.now().replace(microsecond=0) + timedelta(days=1), 4)
    calls = await book_video_calls(w, 5)
    for cid in calls[:3]:
        status, moved = await w.gp.post(f"/consultations/{cid}/move")
        assert status == 200, moved
    status, report = await w.admin.get("/stats/specialties")
    assert status == 200, report
    [row] = report["items"]
    assert (row["requested"], row["cancelled"]) == (5, 0), row


async def test_moves_are_refused_with_clear_codes(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, slots, booked = await _booked(client, database, clock)
    url = f"/consultations/{booked['id']}/move"
    # A slot another booking holds.
    status, other = await w.gp.post(
        "/consultations",
        {
            "patient_id": await patient(w.gp),
            "specialty": "cardiology",
            "reason": "another",
            "slot_id": slots[1]["id"],
        },
    )
    assert status == 201, other
    status, body = await w.gp.post(url, {"slot_id": slots[1]["id"]})
    assert (status, body["code"]) == (409, "slot_taken"), body

    # Another specialist's slot.
    hospital = await facility(w.admin, level="secondary")
    colleague = await user(w.admin, "specialist", facility_id=hospital, specialties=["cardiology"])
    await availability(colleague, clock.now().replace(microsecond=0) + timedelta(days=3))
    [theirs, *_] = sorted(await _free_ids(w.gp, colleague.id))
    status, body = await w.gp.post(url, {"slot_id": theirs})
    assert status == 422, body
    assert body["field_codes"] == {"slot_id": "slot_other_specialist"}

    # No such slot, the same slot, bad input.
    status, body = await w.gp.post(url, {"slot_id": str(uuid.uuid4())})
    assert (status, body["field_codes"]) == (422, {"slot_id": "no_such_slot"}), body
    status, body = await w.gp.post(url, {"slot_id": slots[0]["id"]})
    assert (status, body["field_codes"]) == (422, {"slot_id": "move_same_slot"}), body
    status, body = await w.gp.post(url, {"slot_id": "tomorrow"})
    assert status == 422 and "slot_id" in body["fields"], body

    # A slot that has begun: the clock passes the first slot's start (a new session: the
    # old one has ended by then).
    clock.advance(days=1, minutes=5)
    w.gp = await relogin(client, w.gp)
    status, body = await w.gp.post(
        f"/consultations/{other['id']}/move", {"slot_id": slots[0]["id"]}
    )
    assert (status, body["field_codes"]) == (422, {"slot_id": "slot_begun"}), body

    # The consultation itself has begun: too late to move.
    status, body = await w.gp.post(url, {"slot_id": slots[4]["id"]})
    assert (status, body["code"]) == (409, "move_too_late"), body

    # Not booked: cancelled, or an async case.
    status, _ = await w.gp.post(f"/consultations/{other['id']}/cancel")
    assert status == 200
    status, body = await w.gp.post(
        f"/consultations/{other['id']}/move", {"slot_id": slots[5]["id"]}
    )
    assert (status, body["code"]) == (409, "move_not_booked"), body
    status, case = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "mode": "async", "reason": "x"},
    )
    assert status == 201, case
    status, body = await w.gp.post(f"/consultations/{case['id']}/move")
    assert (status, body["code"]) == (409, "move_not_booked"), body


async def test_only_the_calls_gp_and_specialist_move_it(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, slots, booked = await _booked(client, database, clock)
    url = f"/consultations/{booked['id']}/move"
    body_in = {"slot_id": slots[2]["id"]}
    # A GP of another facility, and another GP of the same one: someone else's call is 404.
    other_gp = await user(w.admin, "gp", facility_id=await facility(w.admin))
    same_clinic_gp = await user(w.admin, "gp", facility_id=w.clinic)
    for gp in (other_gp, same_clinic_gp):
        status, body = await gp.post(url, body_in)
        assert (status, body["code"]) == (404, "consultation_not_found"), body
    # Another specialist of the specialty: 404; the patient and the administrator: 403.
    other = await user(w.admin, "specialist", facility_id=w.hospital, specialties=["cardiology"])
    status, body = await other.post(url, body_in)
    assert status == 404, body
    patient = await patient_account(w.admin, w.patient_id)
    for caller in (patient, w.admin):
        status, body = await caller.post(url, body_in)
        assert status == 403, body
    _, still = await w.gp.get(f"/consultations/{booked['id']}")
    assert still["slot_id"] == slots[0]["id"]


async def test_a_retried_move_with_its_idempotency_key_moves_once(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, slots, booked = await _booked(client, database, clock)
    url = f"/consultations/{booked['id']}/move"
    key = {"Idempotency-Key": "move-1"}
    first = await w.gp.post(url, {"slot_id": slots[2]["id"]}, headers=key)
    again = await w.gp.post(url, {"slot_id": slots[2]["id"]}, headers=key)
    assert first[0] == again[0] == 200 and first[1] == again[1], (first, again)
    status, body = await w.gp.post(url, {"slot_id": slots[4]["id"]}, headers=key)
    assert (status, body["code"]) == (409, "idempotency_key_reused"), body
    # Without the key, the same request is a second move: refused, the call is there already.
    status, body = await w.gp.post(url, {"slot_id": slots[2]["id"]})
    assert (status, body["field_codes"]) == (422, {"slot_id": "move_same_slot"}), body


async def test_concurrent_moves_and_a_booking_onto_one_slot_give_one_winner(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    await availability(w.specialist, start, hours=4)  # 12 slots
    _, page = await w.gp.get("/slots", specialist_id=w.specialist.id, limit=50)
    slots = page["items"]
    target = slots[-1]["id"]
    calls = []
    for i in range(8):
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": await patient(w.gp),
                "specialty": "cardiology",
                "reason": f"case {i}",
                "slot_id": slots[i]["id"],
            },
        )
        assert status == 201, body
        calls.append(body["id"])

    async def move(cid: str) -> int:
        status, _ = await w.gp.post(f"/consultations/{cid}/move", {"slot_id": target})
        return status

    async def book() -> int:
        status, _ = await w.gp.post(
            "/consultations",
            {
                "patient_id": w.patient_id,
                "specialty": "cardiology",
                "reason": "racing",
                "slot_id": target,
            },
        )
        return status

    statuses = await asyncio.gather(*(move(c) for c in calls), book())
    assert sorted(statuses).count(409) == len(calls), statuses
    assert len([s for s in statuses if s in (200, 201)]) == 1, statuses
    async with database.engine.connect() as conn:
        holders = await conn.scalar(
            select(func.count())
            .select_from(Consultation)
            .where(Consultation.slot_id == uuid.UUID(target))
        )
        active = await conn.scalar(
            select(func.count()).select_from(Consultation).where(Consultation.status == "scheduled")
        )
    assert holders == 1 and active == len(calls) + (statuses[-1] == 201)


async def test_concurrent_moves_to_the_earliest_free_slot_each_get_one(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    await availability(w.specialist, start, hours=4)  # 12 slots
    _, page = await w.gp.get("/slots", specialist_id=w.specialist.id, limit=50)
    slots = page["items"]
    calls = []
    for i in range(6):  # booked into the last six
        status, body = await w.gp.post(
            "/consultations",
            {
                "patient_id": await patient(w.gp),
                "specialty": "cardiology",
                "reason": f"case {i}",
                "slot_id": slots[6 + i]["id"],
            },
        )
        assert status == 201, body
        calls.append(body["id"])
    results = await asyncio.gather(*(w.gp.post(f"/consultations/{c}/move") for c in calls))
    assert [status for status, _ in results] == [200] * 6, results
    assert {body["slot_id"] for _, body in results} == {s["id"] for s in slots[:6]}
