"""GET /consultations/{id}/record: who may read a consultation's record, and what it holds."""

from __future__ import annotations

from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import facility, user
from .passport_support import clinic, consultation_in_progress, grant, note, prescription


async def test_the_record_holds_what_was_written_in_the_consultation(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, _ = await note(c.w.specialist, c.consultation_id, "Sinus rhythm", ["I10"])
    assert status == 201
    status, _ = await prescription(c.w.specialist, c.consultation_id)
    assert status == 201
    # Written in another consultation of the same patient: not part of this record.
    other = await consultation_in_progress(c.w)
    status, _ = await note(c.w.specialist, other, "Follow-up")
    assert status == 201
    status, done = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/complete", {"conclusion": "Continue amlodipine"}
    )
    assert status == 200, done

    # The GP reads it once the patient's consent covers the GP.
    status, body = await c.w.gp.get(f"/consultations/{c.consultation_id}/record")
    assert status == 403 and body["code"] == "consent_denied", body
    await grant(c, clock, user_id=c.w.gp.id, access="read")
    for reader in (c.w.gp, c.w.specialist, c.patient):
        status, record = await reader.get(f"/consultations/{c.consultation_id}/record")
        assert status == 200, record
        assert record["consultation"]["reason"] == "palpitations at night"
        assert record["consultation"]["conclusion"] == "Continue amlodipine"
        kinds = [e["kind"] for e in record["entries"]]
        assert kinds == ["note", "diagnosis", "prescription"], kinds
        assert {e["consultation_id"] for e in record["entries"]} == {c.consultation_id}
        assert record["entries"][0]["body"]["text"] == "Sinus rhythm"
        assert record["entries"][2]["body"]["medication"] == "Amlodipine"

    # Every read is in the patient's access log, the refusal too.
    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log", limit=100)
    assert status == 200, log
    outcomes = [e["outcome"] for e in log["items"] if e["action"] == "consultation.record"]
    assert outcomes.count("deny") == 1 and outcomes.count("permit") == 3, outcomes


async def test_a_grant_for_some_categories_shows_only_those(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, "Sinus rhythm", ["I10"])
    await prescription(c.w.specialist, c.consultation_id)
    await grant(c, clock, user_id=c.w.gp.id, access="read", categories=["prescriptions"])
    status, record = await c.w.gp.get(f"/consultations/{c.consultation_id}/record")
    assert status == 200, record
    assert [e["kind"] for e in record["entries"]] == ["prescription"]


async def test_nobody_else_reads_the_record(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, "Sinus rhythm")
    path = f"/consultations/{c.consultation_id}/record"
    # Another GP (even of the same clinic, even with the patient's consent) and another
    # specialist of the same specialty: the consultation is not theirs.
    other_gp = await user(c.w.admin, "gp", facility_id=c.w.clinic)
    far_gp = await user(c.w.admin, "gp", facility_id=await facility(c.w.admin))
    await grant(c, clock, user_id=other_gp.id, access="read")
    for stranger in (other_gp, far_gp, c.other):
        status, body = await stranger.get(path)
        assert status == 404, body
        assert "Sinus" not in str(body)
    # An administrator sees consultations, not what was written in them.
    status, body = await c.w.admin.get(path)
    assert status == 403 and body["code"] == "record_not_yours"
    # A case still waiting in the queue: seen by the specialty's specialists, not theirs.
    status, case = await c.w.gp.post(
        "/consultations",
        {
            "patient_id": c.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "reason": "dizzy",
        },
    )
    assert status == 201
    status, body = await c.other.get(f"/consultations/{case['id']}/record")
    assert status == 403 and body["code"] == "record_not_yours"
    status, body = await c.w.gp.get("/consultations/00000000-0000-4000-8000-000000000000/record")
    assert status == 404 and body["code"] == "consultation_not_found"
