from __future__ import annotations

from datetime import UTC, date, datetime

from fhir.resources.R4B.bundle import Bundle

from teleconsult.fhir.bundle import (
    ConsentData,
    EncounterData,
    PatientData,
    build_bundle,
    validate,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PATIENT = PatientData(
    "7d0b5c1e-0000-4000-8000-000000000001",
    "850412450016",
    "Aigerim Test",
    date(1985, 4, 12),
    "female",
    "+77010000000",
)
ENCOUNTER = EncounterData(
    "7d0b5c1e-0000-4000-8000-000000000002",
    "completed",
    "video",
    "cardiology",
    "7d0b5c1e-0000-4000-8000-000000000003",
    "7d0b5c1e-0000-4000-8000-000000000004",
    NOW,
    NOW,
    NOW,
    NOW,
)


def entry(
    n: int, kind: str, body: dict[str, object], amends: str | None = None
) -> dict[str, object]:
    return {
        "id": f"7d0b5c1e-0000-4000-8000-0000000001{n:02d}",
        "seq": n,
        "kind": kind,
        "author_id": ENCOUNTER.specialist_id,
        "consultation_id": ENCOUNTER.id,
        "body": body,
        "created_at": NOW.isoformat(),
        "hash": "ab" * 32,
        "amends": amends,
        "superseded_by": None,
    }


def test_every_kind_maps_to_a_valid_r4_resource() -> None:
    entries = [
        entry(1, "note", {"text": "stable", "diagnoses": []}),
        entry(
            2,
            "diagnosis",
            {"code": "I10", "title": "Essential (primary) hypertension", "comment": ""},
        ),
        entry(
            3,
            "prescription",
            {
                "medication": "Amlodipine",
                "dose": "5 mg",
                "route": "oral",
                "frequency": "daily",
                "duration_days": 30,
                "instructions": "",
            },
        ),
        entry(4, "lab_result", {"test": "Sodium", "value": 140, "unit": "mmol/L"}),
        entry(5, "lab_result", {"test": "Culture", "value": "negative"}),
        entry(6, "referral", {"specialty": "nephrology", "reason": "creatinine"}),
        entry(7, "attachment", {"title": "ECG", "content_type": "application/pdf"}),
    ]
    consents = [
        ConsentData(
            "7d0b5c1e-0000-4000-8000-000000000009",
            None,
            "7d0b5c1e-0000-4000-8000-00000000000a",
            "read",
            ["notes"],
            NOW,
            NOW,
            False,
        )
    ]
    bundle = validate(build_bundle(PATIENT, entries, [ENCOUNTER], consents, now=NOW))
    parsed = Bundle.model_validate(bundle)
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert (
        kinds
        == [
            "Patient",
            "Encounter",
            "Observation",
            "Condition",
            "MedicationRequest",
            "Observation",
            "Observation",
            "Observation",
            "Consent",
        ]
        + ["Provenance"] * 6
    )
    assert len({e.fullUrl for e in parsed.entry}) == len(parsed.entry)
