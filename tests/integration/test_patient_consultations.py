"""The patient's own consultations: upcoming with when the call opens, past with the
conclusion, paged, and nobody else's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import availability, patient, user, world


def booking(patient_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "specialty": "cardiology",
        "mode": "video",
        "urgency": "routine",
        "reason": "chest pain on exertion",
        **kw,
    }


async def test_upcoming_then_past_with_the_conclusion(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    me = await user(w.admin, "patient", patient_id=w.patient_id)
    start = clock.now().replace(microsecond=0, second=0) + timedelta(hours=2)
    await availability(w.specialist, start, hours=2)
    ids = []
    for _ in range(3):
        status, body = await w.gp.post("/consultations", booking(w.patient_id))
        assert status == 201, body
        ids.append(body["id"])

    status, page = await me.get(f"/patients/{w.patient_id}/consultations", limit=2)
    assert status == 200, page
    assert [c["id"] for c in page["items"]] == ids[:2]  # soonest first
    first = page["items"][0]
    assert first["call_open"] is False
    assert first["call_opens_at"] == (start - timedelta(minutes=15)).isoformat().replace(
        "+00:00", "Z"
    )
    assert first["specialist"]["name"] == "Test specialist"
    assert first["requester"]["role"] == "gp"
    assert page["next"]
    status, rest = await me.get(
        f"/patients/{w.patient_id}/consultations", limit=2, cursor=page["next"]
    )
    assert status == 200 and [c["id"] for c in rest["items"]] == ids[2:]
    assert rest["next"] is None

    # The call opens 15 minutes before its start.
    clock.set(start - timedelta(minutes=10))
    status, page = await me.get(f"/patients/{w.patient_id}/consultations")
    assert page["items"][0]["call_open"] is True
    assert page["items"][1]["call_open"] is False
    assert page["items"][0]["call_invited"] is False
    status, body = await w.gp.post(
        f"/consultations/{ids[0]}/call/options", {"invite_patient": True}
    )
    assert status == 200, body
    status, page = await me.get(f"/patients/{w.patient_id}/consultations")
    assert [c["call_invited"] for c in page["items"]] == [True, False, False]

    status, body = await w.specialist.post(f"/consultations/{ids[0]}/start")
    assert status == 200, body
    status, body = await w.specialist.post(
        f"/consultations/{ids[0]}/complete", {"conclusion": "Stable angina; see in 3 months."}
    )
    assert status == 200, body
    status, body = await w.gp.post(f"/consultations/{ids[1]}/cancel")
    assert status == 200, body

    status, past = await me.get(f"/patients/{w.patient_id}/consultations", when="past")
    assert status == 200, past
    assert [c["id"] for c in past["items"]] == [ids[1], ids[0]]  # latest first
    done = past["items"][1]
    assert done["status"] == "completed"
    assert done["conclusion"] == "Stable angina; see in 3 months."
    assert done["call_open"] is False
    status, upcoming = await me.get(f"/patients/{w.patient_id}/consultations", when="upcoming")
    assert [c["id"] for c in upcoming["items"]] == [ids[2]]

    status, one = await me.get(f"/patients/{w.patient_id}/consultations", when="past", limit=1)
    status, two = await me.get(
        f"/patients/{w.patient_id}/consultations", when="past", limit=1, cursor=one["next"]
    )
    assert [c["id"] for c in one["items"] + two["items"]] == [ids[1], ids[0]]


async def test_another_patients_consultations_are_not_found(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    me = await user(w.admin, "patient", patient_id=w.patient_id)
    other_id = await patient(w.gp)
    other = await user(w.admin, "patient", patient_id=other_id)
    await availability(w.specialist, clock.now() + timedelta(hours=2), hours=1)
    status, body = await w.gp.post("/consultations", booking(w.patient_id))
    assert status == 201, body

    status, body = await other.get(f"/patients/{w.patient_id}/consultations")
    assert status == 404 and body["code"] == "not_found"
    status, body = await other.get(f"/patients/{w.patient_id}/consultations", when="past")
    assert status == 404
    status, body = await other.get(f"/patients/{other_id}/consultations")
    assert status == 200 and body["items"] == []
    # Clinicians and administrators have their own lists; this one is the patient's.
    for caller in (w.gp, w.specialist, w.admin):
        status, body = await caller.get(f"/patients/{w.patient_id}/consultations")
        assert status == 403, body
    status, body = await me.get(f"/patients/{w.patient_id}/consultations", when="someday")
    assert status == 422 and "when" in body["fields"]
    status, body = await me.get(f"/patients/{w.patient_id}/consultations", cursor="nonsense")
    assert status == 422
    status, body = await me.get("/patients/not-an-id/consultations")
    assert status == 404
