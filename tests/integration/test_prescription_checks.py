"""Prescription checks through the API, on SQLite and PostgreSQL: each kind of finding,
the refusal of a high finding, the confirmation with a reason, and consent."""

from __future__ import annotations

import asyncio
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from .passport_support import Clinic, clinic, grant, relogin

AMLODIPINE = {
    "medication": "Amlodipine",
    "dose": "5 mg",
    "route": "oral",
    "frequency": "once daily",
    "duration_days": 30,
}


def rx(**changes: Any) -> dict[str, Any]:
    return {**AMLODIPINE, **changes}


def codes(findings: list[dict[str, Any]]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in findings}


async def checks(c: Clinic, body: dict[str, Any]) -> dict[str, Any]:
    status, out = await c.w.specialist.post(f"/patients/{c.patient_id}/prescription-checks", body)
    assert status == 200, out
    return dict(out)


async def write(c: Clinic, body: dict[str, Any]) -> tuple[int, Any]:
    return await c.w.specialist.post(f"/consultations/{c.consultation_id}/prescriptions", body)


async def passport_size(c: Clinic) -> int:
    status, page = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200, page
    return len(page["items"])


async def test_each_kind_of_finding(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)

    clean = await checks(c, AMLODIPINE)
    assert clean["findings"] == [] and not clean["blocked"] and clean["in_formulary"]
    assert clean["drug"]["atc"] == "C08CA01" and clean["drug"]["name"]["ru"] == "амлодипин"

    absurd = await checks(
        c, rx(dose="5,000 mg", route="banana", frequency="every hour", duration_days=3650)
    )
    assert absurd["blocked"]
    assert codes(absurd["findings"]) == {
        "dose_above_maximum": "high",
        "route_unknown": "high",
        "duration_out_of_range": "high",
        "frequency_impossible": "high",
    }
    fields = {f["code"]: f["field"] for f in absurd["findings"]}
    assert fields["dose_above_maximum"] == "dose" and fields["route_unknown"] == "route"
    assert fields["duration_out_of_range"] == "duration_days"

    found = codes((await checks(c, rx(route="intravenous", frequency="banana")))["findings"])
    assert found == {"route_not_for_drug": "high", "frequency_invalid": "high"}
    weekly = await checks(c, rx(medication="Метотрексат", dose="10 mg"))
    # Daily methotrexate: too often, and 70 mg a week where 25 mg is the most.
    assert codes(weekly["findings"]) == {
        "frequency_weekly_only": "high",
        "dose_above_maximum": "high",
    }
    assert codes((await checks(c, rx(dose="a little")))["findings"]) == {"dose_invalid": "high"}
    tablets = await checks(c, rx(dose="1 tablet"))
    assert codes(tablets["findings"]) == {"dose_unit_unchecked": "low"}
    assert not tablets["blocked"]
    # A tablet twice a day is more often than usual; every hour is no way to take it.
    twice = await checks(c, rx(dose="1 tablet", frequency="twice daily"))
    assert codes(twice["findings"])["frequency_above_usual"] == "moderate"
    assert not twice["blocked"]
    hourly = await checks(c, rx(dose="1 tablet", frequency="every hour"))
    assert codes(hourly["findings"]) == {
        "frequency_impossible": "high",
        "dose_unit_unchecked": "low",
    }
    assert hourly["blocked"]
    free = await checks(c, rx(medication="Herbal tea", dose="1 cup"))
    assert codes(free["findings"]) == {"not_in_formulary": "low"} and not free["in_formulary"]
    assert free["drug"] is None

    # The passport: amlodipine, warfarin and an allergy to penicillins.
    for body in (
        AMLODIPINE,
        rx(medication="Warfarin", dose="5 mg", atc="B01AA03"),
    ):
        status, entry = await write(c, body)
        assert status == 201, entry
    status, allergy = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/allergies",
        {"substance": "Пенициллины", "reaction": "Крапивница", "severity": "severe"},
    )
    assert status == 201, allergy

    same = await checks(c, rx(medication="амлодипин"))
    duplicate = next(f for f in same["findings"] if f["code"] == "duplicate_drug")
    assert duplicate["severity"] == "high" and duplicate["params"]["medication"] == "Amlodipine"
    assert codes((await checks(c, rx(medication="Felodipine")))["findings"]) == {
        "duplicate_class": "moderate"
    }
    nsaid = await checks(c, rx(medication="Ibuprofen", dose="400 mg", frequency="tid"))
    interaction = next(f for f in nsaid["findings"] if f["code"] == "interaction")
    assert interaction["severity"] == "high"
    assert interaction["params"]["interaction"] == "bleeding"
    assert interaction["params"]["medication"] == "Warfarin"
    penicillin = await checks(
        c, rx(medication="Amoxicillin", dose="500 mg", frequency="3 раза в день", duration_days=7)
    )
    assert codes(penicillin["findings"]) == {"allergy": "high"}
    assert penicillin["findings"][0]["params"]["substance"] == "Пенициллины"
    cephalosporin = await checks(
        c, rx(medication="Цефтриаксон", dose="1 g", route="в/в", duration_days=7)
    )
    assert codes(cephalosporin["findings"]) == {"allergy_cross_reactivity": "moderate"}

    # A prescription that ran out is no longer active.
    clock.advance(days=31)
    c.patient = await relogin(client, c.patient)
    c.w.specialist = await relogin(client, c.w.specialist)
    await grant(c, clock, user_id=c.w.specialist.id)
    later = await checks(c, AMLODIPINE)
    assert codes(later["findings"]) == {}


async def test_a_high_finding_blocks_until_confirmed_with_a_reason(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    absurd = rx(dose="5,000 mg", route="banana", frequency="every hour", duration_days=3650)

    status, refused = await write(c, absurd)
    assert status == 409, refused
    assert refused["code"] == "prescription_blocked"
    assert {"dose_above_maximum", "route_unknown", "duration_out_of_range"} <= set(
        codes(refused["findings"])
    )
    assert await passport_size(c) == 0
    # A reason too short is no confirmation.
    status, body = await write(c, {**absurd, "override": {"reason": "ok"}})
    assert status == 422 and "override.reason" in body["fields"], body

    status, entry = await write(c, AMLODIPINE)
    assert status == 201, entry
    assert entry["body"]["atc"] == "C08CA01" and entry["body"]["in_formulary"] is True
    assert entry["body"]["checks"]["findings"] == []
    assert entry["body"]["checks"]["override_reason"] is None

    spironolactone = rx(medication="Spironolactone", dose="25 mg")
    await write(c, rx(medication="Enalapril", dose="10 mg", frequency="twice daily"))
    status, refused = await write(c, spironolactone)
    assert status == 409 and codes(refused["findings"]) == {"interaction": "high"}, refused
    reason = "Heart failure with reduced ejection fraction; potassium checked weekly"
    status, entry = await write(c, {**spironolactone, "override": {"reason": reason}})
    assert status == 201, entry
    assert entry["body"]["checks"]["override_reason"] == reason
    assert codes(entry["body"]["checks"]["findings"]) == {"interaction": "high"}
    assert "override" not in entry["body"]

    # The generic entries endpoint checks a prescription the same way.
    status, refused = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries", {"kind": "prescription", "body": absurd}
    )
    assert status == 409 and refused["code"] == "prescription_blocked", refused

    # A correction replaces the entry it amends: not a duplicate of itself.
    first = (await c.patient.get(f"/patients/{c.patient_id}/passport"))[1]["items"][0]
    status, corrected = await write(c, rx(dose="10 mg", amends=first["id"]))
    assert status == 201, corrected
    assert corrected["body"]["checks"]["findings"] == []

    status, bundle = await c.w.specialist.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200, bundle
    requests = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    confirmed = next(r for r in requests if r.get("note"))
    assert confirmed["medicationCodeableConcept"]["coding"][0]["code"] == "C03DA01"
    assert reason in confirmed["note"][0]["text"]


async def test_checks_pass_the_consent_decision(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    path = f"/patients/{c.patient_id}/prescription-checks"

    status, body = await c.w.specialist.post(path, AMLODIPINE)
    assert status == 403 and body["code"] == "consent_denied", body
    status, body = await c.patient.post(path, AMLODIPINE)
    assert status == 403, body

    # Without the diagnoses, allergies cannot be read: the findings say they were not checked.
    await grant(c, clock, user_id=c.w.specialist.id, categories=["prescriptions"])
    status, body = await c.w.specialist.post(path, AMLODIPINE)
    assert status == 200, body
    assert codes(body["findings"]) == {"allergies_not_checked": "low"}
    status, entry = await write(c, AMLODIPINE)
    assert status == 201, entry
    assert codes(entry["body"]["checks"]["findings"]) == {"allergies_not_checked": "low"}

    await grant(c, clock, user_id=c.w.specialist.id, access="read", categories=["notes"])
    status, body = await c.w.specialist.post(path, AMLODIPINE)
    assert status == 200, body  # the first grant still covers prescriptions

    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log")
    assert status == 200, log
    actions = [(e["action"], e["outcome"]) for e in log["items"]]
    assert ("prescription.check", "deny") in actions
    assert ("prescription.check", "permit") in actions


async def test_formulary_search(client: Any, database: Database, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    status, page = await c.w.gp.get("/formulary", q="амлод")
    assert status == 200, page
    assert [d["atc"] for d in page["items"]] == ["C08CA01"] and page["next"] is None
    drug = page["items"][0]
    assert drug["name"] == {"en": "amlodipine", "ru": "амлодипин", "kk": "амлодипин"}
    assert drug["max_dose"] == {"value": 10.0, "unit": "mg", "per": "day"}
    assert drug["routes"] == ["oral"] and drug["chronic"] is True
    status, page = await c.w.specialist.get("/formulary", q="C09AA", limit=3)
    assert status == 200 and len(page["items"]) == 3, page
    status, body = await c.w.specialist.get("/formulary")
    assert status == 422 and "q" in body["fields"], body
    status, body = await c.patient.get("/formulary", q="amlodipine")
    assert status == 403, body


async def test_two_prescriptions_written_at_once_see_each_other(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    results = await asyncio.gather(write(c, AMLODIPINE), write(c, rx(medication="Амлодипин")))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409], results
    refused = next(body for status, body in results if status == 409)
    assert codes(refused["findings"]) == {"duplicate_drug": "high"}
    assert await passport_size(c) == 1
