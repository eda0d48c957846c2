"""Programmes: the shipped ones, administrators' edits, enrolment, proposals from the
passport's diagnoses, and the GP's follow-up list with a fake clock."""

from __future__ import annotations

from typing import Any

from teleconsult.clock import FakeClock

from ..factories import patient, world
from .passport_support import clinic, grant, note, relogin


async def test_shipped_programmes_and_admin_edits(
    client: Any, database: Any, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    status, body = await w.gp.get("/programmes")
    assert status == 200, body
    by_code = {p["code"]: p for p in body["items"]}
    assert set(by_code) >= {"hypertension", "diabetes_t2", "copd", "heart_failure", "epilepsy"}
    hypertension = by_code["hypertension"]
    assert "I10" in hypertension["icd10"] and hypertension["review_specialty"] == "cardiology"
    assert {"measure": "bp", "low": None, "high": 140.0, "high2": 90.0} in hypertension["targets"]
    assert {"measure": "hba1c", "low": None, "high": 7.0, "high2": None} in by_code["diabetes_t2"][
        "targets"
    ]

    edit = {
        "icd10": ["I10", "I11"],
        "visit_interval_days": 60,
        "targets": [{"measure": "bp", "high": 130, "high2": 80}],
        "review_specialty": "cardiology",
    }
    status, body = await w.gp.post("/programmes/hypertension", edit)
    assert status == 403, body
    status, body = await w.admin.post("/programmes/hypertension", edit)
    assert status == 200, body
    assert body["visit_interval_days"] == 60 and body["targets"][0]["high"] == 130
    status, body = await w.admin.post(
        "/programmes/hypertension", {**edit, "targets": [{"measure": "cholesterol"}]}
    )
    assert status == 422 and body["field_codes"]["targets.0.measure"] == "unknown_measure"
    status, body = await w.admin.post("/programmes/nonesuch", edit)
    assert status == 404 and body["code"] == "programme_not_found"


async def test_enrolment_and_overdue_list(client: Any, database: Any, clock: FakeClock) -> None:
    w = await world(client, database.engine)
    first = w.patient_id
    status, body = await w.gp.post(f"/patients/{first}/programmes", {"programme": "hypertension"})
    assert status == 201, body
    status, again = await w.gp.post(f"/patients/{first}/programmes", {"programme": "hypertension"})
    assert status == 409 and again["code"] == "already_enrolled"
    status, unknown = await w.gp.post(f"/patients/{first}/programmes", {"programme": "gout"})
    assert status == 404 and unknown["code"] == "programme_not_found"

    status, listed = await w.gp.get("/followup")
    assert status == 200, listed
    [row] = listed["items"]
    assert row["patient_id"] == first and row["overdue"] == []
    assert row["patient_name"] == "Test Patient"

    # Ninety-two days on, the hypertension patient is overdue for a visit and readings; a
    # patient enrolled today in the diabetes programme is not.
    clock.advance(days=92)
    gp = await relogin(client, w.gp)
    second = await patient(gp)
    status, _ = await gp.post(f"/patients/{second}/programmes", {"programme": "diabetes_t2"})
    assert status == 201
    status, listed = await gp.get("/followup")
    assert [r["patient_id"] for r in listed["items"]] == [first, second]
    overdue = listed["items"][0]
    assert overdue["overdue"] == ["visit", "measurement"]
    assert overdue["missing_measures"] == ["bp", "pulse"]
    assert listed["items"][1]["overdue"] == []

    # A year after enrolment the yearly cardiology review is due too.
    clock.advance(days=365 - 92 + 1)
    gp = await relogin(client, gp)
    status, listed = await gp.get("/followup")
    first_row = next(r for r in listed["items"] if r["patient_id"] == first)
    assert first_row["overdue"] == ["visit", "measurement", "review"]
    assert first_row["review_specialty"] == "cardiology"
    assert listed["items"][0]["patient_id"] == first

    # Ending an enrolment takes the patient off the list; another facility's GP sees nothing.
    status, ended = await gp.post(f"/enrolments/{first_row['enrolment_id']}/end")
    assert status == 200 and ended["ended_at"] is not None
    status, listed = await gp.get("/followup")
    assert [r["patient_id"] for r in listed["items"]] == [second]
    status, body = await (await relogin(client, w.specialist)).get("/followup")
    assert status == 403


async def test_completed_review_resets_the_due_date(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    w = c.w
    status, _ = await w.gp.post(
        f"/patients/{c.patient_id}/programmes", {"programme": "hypertension"}
    )
    assert status == 201
    clock.advance(days=400)
    gp = await relogin(client, w.gp)
    specialist = await relogin(client, w.specialist)
    status, listed = await gp.get("/followup")
    assert listed["items"][0]["overdue"] == ["visit", "measurement", "review"]
    status, done = await specialist.post(
        f"/consultations/{c.consultation_id}/complete", {"conclusion": "Controlled."}
    )
    assert status == 200, done
    status, listed = await gp.get("/followup")
    row = listed["items"][0]
    assert row["overdue"] == ["measurement"]
    assert row["last_review"] is not None and row["last_visit"] == row["last_review"]


async def test_diagnosis_in_passport_proposes_enrolment(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, body = await note(c.w.specialist, c.consultation_id, "Hypertension", ["I10", "E11.9"])
    assert status == 201, body
    # Without consent the GP is not told what the passport holds.
    status, body = await c.w.gp.get(f"/patients/{c.patient_id}/programmes")
    assert status == 200 and body == {"enrolments": [], "proposed": []}
    await grant(c, clock, user_id=c.w.gp.id, access="read", categories=["diagnoses"])
    status, body = await c.w.gp.get(f"/patients/{c.patient_id}/programmes")
    assert body["proposed"] == ["diabetes_t2", "hypertension"]
    status, _ = await c.w.gp.post(
        f"/patients/{c.patient_id}/programmes", {"programme": "hypertension"}
    )
    status, body = await c.w.gp.get(f"/patients/{c.patient_id}/programmes")
    assert body["proposed"] == ["diabetes_t2"]
    assert [e["programme"] for e in body["enrolments"]] == ["hypertension"]
    # The patient sees their own programmes.
    status, body = await c.patient.get(f"/patients/{c.patient_id}/programmes")
    assert status == 200 and [e["programme"] for e in body["enrolments"]] == ["hypertension"]
