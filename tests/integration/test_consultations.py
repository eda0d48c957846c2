from __future__ import annotations

from datetime import timedelta
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import availability, facility, user, world


def booking(patient_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "specialty": "cardiology",
        "mode": "video",
        "urgency": "routine",
        "reason": "follow-up",
        **kw,
    }


async def test_earliest_free_slot_and_booking_by_specialist_and_time(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    later = clock.now().replace(microsecond=0) + timedelta(days=3)
    sooner = later - timedelta(days=1)
    await availability(w.specialist, later, hours=1)
    await availability(w.specialist, sooner, hours=1)

    status, first = await w.gp.post("/consultations", booking(w.patient_id))
    assert status == 201, first
    assert first["starts_at"] == sooner.isoformat().replace("+00:00", "Z")

    wanted = later + timedelta(minutes=40)
    status, chosen = await w.gp.post(
        "/consultations",
        booking(w.patient_id, specialist_id=w.specialist.id, starts_at=wanted.isoformat()),
    )
    assert status == 201, chosen
    assert chosen["starts_at"] == wanted.isoformat().replace("+00:00", "Z")

    status, body = await w.gp.post(
        "/consultations",
        booking(
            w.patient_id,
            specialist_id=w.specialist.id,
            starts_at=(wanted + timedelta(minutes=5)).isoformat(),
        ),
    )
    assert status == 422 and "starts_at" in body["fields"]


async def test_no_free_slot_is_a_409_naming_the_specialty(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    status, body = await w.gp.post("/consultations", booking(w.patient_id, specialty="neurology"))
    assert status == 409
    assert body["fields"] == {"specialty": "no free slot"}


async def test_overlapping_availability_is_refused(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    await availability(w.specialist, start, hours=2)
    status, body = await w.specialist.post(
        f"/specialists/{w.specialist.id}/availability",
        {
            "starts_at": (start + timedelta(hours=1)).isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
        },
    )
    assert status == 409, body
    # Another specialist cannot publish for this one.
    other = await user(w.admin, "specialist", facility_id=w.hospital, specialties=["neurology"])
    status, _ = await other.post(
        f"/specialists/{w.specialist.id}/availability",
        {
            "starts_at": (start + timedelta(days=1)).isoformat(),
            "ends_at": (start + timedelta(days=1, hours=1)).isoformat(),
        },
    )
    assert status == 404
    status, body = await w.specialist.post(
        f"/specialists/{w.specialist.id}/availability",
        {"starts_at": start.isoformat(), "ends_at": (start - timedelta(hours=1)).isoformat()},
    )
    assert status == 422 and "ends_at" in body["fields"]


async def test_video_lifecycle_with_join_window(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(hours=2)
    await availability(w.specialist, start, hours=1)
    _, c = await w.gp.post("/consultations", booking(w.patient_id))
    cid = c["id"]

    status, body = await w.specialist.post(f"/consultations/{cid}/start")
    assert status == 409 and "15 minutes" in body["detail"]
    status, body = await w.specialist.post(
        f"/consultations/{cid}/complete", {"conclusion": "Reviewed."}
    )
    assert status == 409

    clock.set(start - timedelta(minutes=15))
    status, started = await w.specialist.post(f"/consultations/{cid}/start")
    assert status == 200 and started["status"] == "in_progress"
    assert (await w.gp.post(f"/consultations/{cid}/complete"))[0] == 403
    status, done = await w.specialist.post(
        f"/consultations/{cid}/complete", {"conclusion": "Stable angina; continue therapy."}
    )
    assert status == 200 and done["status"] == "completed"
    assert done["conclusion"] == "Stable angina; continue therapy."
    assert (await w.gp.post(f"/consultations/{cid}/cancel"))[0] == 409


async def test_no_show_only_after_the_slot_began(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(hours=1)
    await availability(w.specialist, start, hours=1)
    _, c = await w.gp.post("/consultations", booking(w.patient_id))
    assert (await w.specialist.post(f"/consultations/{c['id']}/no-show"))[0] == 409
    clock.set(start + timedelta(minutes=10))
    status, body = await w.specialist.post(f"/consultations/{c['id']}/no-show")
    assert status == 200 and body["status"] == "no_show"


async def test_async_cases_queue_by_specialty_emergencies_first(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    neuro = await user(w.admin, "specialist", facility_id=w.hospital, specialties=["neurology"])
    routine = await w.gp.post("/consultations", booking(w.patient_id, mode="async"))
    clock.advance(minutes=5)
    emergency = await w.gp.post(
        "/consultations", booking(w.patient_id, mode="async", urgency="emergency")
    )
    assert routine[0] == 201 and emergency[0] == 201
    assert routine[1]["status"] == "requested" and routine[1]["specialist_id"] is None

    status, queue = await w.specialist.get("/consultations", status="requested")
    assert [c["id"] for c in queue["items"]] == [emergency[1]["id"], routine[1]["id"]]
    # A specialist of another specialty sees neither case.
    assert (await neuro.get("/consultations"))[1]["items"] == []
    assert (await neuro.get(f"/consultations/{routine[1]['id']}"))[0] == 404

    status, claimed = await w.specialist.post(f"/consultations/{emergency[1]['id']}/claim")
    assert status == 200
    assert claimed["status"] == "in_progress" and claimed["specialist_id"] == w.specialist.id
    second = await user(w.admin, "specialist", facility_id=w.hospital, specialties=["cardiology"])
    # Once claimed, the case leaves the other specialists' view.
    assert (await second.post(f"/consultations/{emergency[1]['id']}/claim"))[0] == 404
    status, body = await w.gp.post(
        "/consultations", booking(w.patient_id, mode="async", slot_id=claimed["id"])
    )
    assert status == 422 and "slot_id" in body["fields"]


async def test_ownership_other_gp_sees_404(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    await availability(w.specialist, clock.now() + timedelta(days=1), hours=1)
    _, c = await w.gp.post("/consultations", booking(w.patient_id))
    other_gp = await user(w.admin, "gp", facility_id=await facility(w.admin))
    assert (await other_gp.get(f"/consultations/{c['id']}"))[0] == 404
    assert (await other_gp.post(f"/consultations/{c['id']}/cancel"))[0] == 404
    assert (await other_gp.get("/consultations"))[1]["items"] == []
    # The other GP cannot book for a patient of another facility.
    status, body = await other_gp.post("/consultations", booking(w.patient_id))
    assert status == 422 and "patient_id" in body["fields"]
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    assert (await patient.get(f"/consultations/{c['id']}"))[0] == 200
    assert (await patient.post(f"/consultations/{c['id']}/cancel"))[0] == 403
    assert (await w.admin.get(f"/consultations/{c['id']}"))[0] == 200


async def test_idempotency_key_returns_the_first_result(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    await availability(w.specialist, clock.now() + timedelta(days=1), hours=1)
    headers = {"Idempotency-Key": "booking-7f3a"}
    first = await w.gp.post("/consultations", booking(w.patient_id), headers=headers)
    retry = await w.gp.post("/consultations", booking(w.patient_id), headers=headers)
    assert first[0] == retry[0] == 201
    assert first[1] == retry[1]
    _, listed = await w.gp.get("/consultations")
    assert len(listed["items"]) == 1
    status, body = await w.gp.post(
        "/consultations", booking(w.patient_id, reason="different"), headers=headers
    )
    assert status == 409 and "Idempotency-Key" in body["fields"]


async def test_live_queue_event_reaches_the_specialist(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    ws = await client.ws_connect("/api/v1/events", headers=w.specialist.headers())
    hello = await ws.receive_json(timeout=5)
    assert "queue:cardiology" in hello["channels"]
    _, c = await w.gp.post("/consultations", booking(w.patient_id, mode="async"))
    event = await ws.receive_json(timeout=5)
    assert event["consultation_id"] == c["id"] and event["event"] == "booked"
    assert w.patient_id not in str(event)
    await ws.close()


async def test_a_completed_call_keeps_its_slot(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(minutes=30)
    await availability(w.specialist, start, hours=1)
    _, c = await w.gp.post("/consultations", booking(w.patient_id))
    clock.set(start - timedelta(minutes=10))
    await w.specialist.post(f"/consultations/{c['id']}/start")
    status, _ = await w.specialist.post(
        f"/consultations/{c['id']}/complete", {"conclusion": "Reviewed."}
    )
    assert status == 200
    _, page = await w.gp.get("/slots", specialty="cardiology")
    assert c["slot_id"] not in {s["id"] for s in page["items"]}
    status, body = await w.gp.post("/consultations", booking(w.patient_id, slot_id=c["slot_id"]))
    assert status == 409, body
