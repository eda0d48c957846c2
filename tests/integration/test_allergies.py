"""Allergies and intolerances as passport entries: written under consent, chained,
corrected by amendment, read by the patient, exported as FHIR AllergyIntolerance."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

from teleconsult.clock import FakeClock

from ..conftest import Database
from .passport_support import clinic, grant


async def test_allergy_entries_and_their_fhir_form(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    allergies = f"/consultations/{c.consultation_id}/allergies"
    penicillin = {"substance": "Amoxicillin", "reaction": "urticaria", "severity": "severe"}

    # No consent, no entry.
    status, body = await c.w.specialist.post(allergies, penicillin)
    assert status == 403, body
    # Allergies are written with the diagnoses: a grant for prescriptions only is not enough.
    await grant(c, clock, user_id=c.w.specialist.id, categories=["prescriptions"])
    status, body = await c.w.specialist.post(allergies, penicillin)
    assert status == 403, body
    await grant(c, clock, user_id=c.w.specialist.id, categories=["diagnoses", "prescriptions"])

    status, entry = await c.w.specialist.post(allergies, penicillin)
    assert status == 201, entry
    assert entry["kind"] == "allergy" and entry["seq"] == 1 and len(entry["hash"]) == 64
    assert entry["body"] == {
        "substance": "Amoxicillin",
        "atc": "J01CA04",  # matched by name in the formulary
        "type": "allergy",
        "category": "medication",
        "reaction": "urticaria",
        "severity": "severe",
        "status": "active",
    }

    # The generic entries endpoint takes the same body, validated per field.
    status, body = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "allergy", "body": {"substance": "Peanuts", "severity": "catastrophic"}},
    )
    assert status == 422 and "body.severity" in body["fields"], body
    # So does a prescription sent there: a bad field is a 422 naming it, not a 500.
    status, body = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "prescription", "body": {"medication": "Amlodipine", "duration_days": "x"}},
    )
    assert status == 422 and "body.duration_days" in body["fields"], body
    status, food = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {
            "kind": "allergy",
            "body": {
                "substance": "Арахис",
                "type": "intolerance",
                "category": "food",
                "severity": "mild",
            },
        },
    )
    assert status == 201, food
    assert food["body"]["atc"] is None and food["body"]["reaction"] == ""
    status, body = await c.w.specialist.post(allergies, {**penicillin, "atc": "penicillin"})
    assert status == 422 and "atc" in body["fields"], body

    # The allergy blocks amoxicillin, and ampicillin (another penicillin).
    check = {
        "medication": "Ampicillin",
        "dose": "1 g",
        "route": "IV",
        "frequency": "every 6 hours",
        "duration_days": 7,
    }
    path = f"/patients/{c.patient_id}/prescription-checks"
    status, out = await c.w.specialist.post(path, check)
    assert status == 200, out
    assert [(f["code"], f["severity"]) for f in out["findings"]] == [("allergy", "high")]

    # Corrected: the allergy was refuted. The correction replaces it in the checks.
    status, corrected = await c.w.specialist.post(
        allergies, {**penicillin, "status": "inactive", "amends": entry["id"]}
    )
    assert status == 201, corrected
    assert corrected["history"] == [entry["id"]]
    status, out = await c.w.specialist.post(path, check)
    assert status == 200 and out["findings"] == [], out

    # The patient reads them; a search by kind finds them.
    status, page = await c.patient.get(f"/patients/{c.patient_id}/passport", kind="allergy")
    assert status == 200, page
    assert [e["seq"] for e in page["items"]] == [1, 2, 3]
    status, verified = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200 and verified["ok"], verified

    status, bundle = await c.w.specialist.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200, bundle
    parsed = Bundle.model_validate(bundle)
    found = [
        e.resource
        for e in parsed.entry or []
        if e.resource.get_resource_type() == "AllergyIntolerance"
    ]
    assert len(found) == 3
    by_id = {r.id: r for r in found}
    first = by_id[entry["id"]]
    assert first.verificationStatus.coding[0].code == "entered-in-error"
    assert first.code.coding[0].code == "J01CA04" and first.code.text == "Amoxicillin"
    latest = by_id[corrected["id"]]
    assert latest.clinicalStatus.coding[0].code == "inactive"
    assert latest.reaction[0].severity == "severe"
    assert latest.patient.reference == f"Patient/{c.patient_id}"
    nuts = by_id[food["id"]]
    assert nuts.type == "intolerance" and nuts.category == ["food"]
    assert nuts.criticality == "low"
