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


def test_measurements_are_loinc_coded_observations_in_ucum() -> None:
    system = "7d0b5c1e-0000-4000-8000-0000000000ff"
    bp = entry(
        1,
        "observation",
        {
            "measure": "bp",
            "loinc": "85354-9",
            "unit": "mm[Hg]",
            "value": 150.0,
            "value2": 95.0,
            "components": [
                {"loinc": "8480-6", "value": 150.0, "unit": "mm[Hg]"},
                {"loinc": "8462-4", "value": 95.0, "unit": "mm[Hg]"},
            ],
            "measured_at": "2026-02-28T08:00:00+00:00",
            "measured_by": ENCOUNTER.requester_id,
            "source": "clinician",
        },
    )
    bp["consultation_id"] = None
    pulse = entry(
        2,
        "observation",
        {
            "measure": "pulse",
            "loinc": "8867-4",
            "unit": "/min",
            "value": 72.0,
            "value2": None,
            "components": None,
            "measured_at": "2026-02-28T07:00:00+00:00",
            "measured_by": "7d0b5c1e-0000-4000-8000-0000000000ee",
            "source": "patient",
        },
    )
    a1c = entry(
        3,
        "observation",
        {
            "measure": "hba1c",
            "loinc": "4548-4",
            "unit": "%",
            "value": 8.2,
            "value2": None,
            "components": None,
            "measured_at": "2026-02-27T03:30:00+00:00",
            "measured_by": None,
            "source": "system",
            "provenance": {
                "system_id": system,
                "system": "Invivo laboratory",
                "source_id": "Observation/urn:lab|A1C",
                "received_at": NOW.isoformat(),
            },
        },
    )
    a1c["author_id"] = system
    bundle = validate(build_bundle(PATIENT, [bp, pulse, a1c], [ENCOUNTER], [], now=NOW))
    parsed = Bundle.model_validate(bundle)
    found = {e.resource.id: e.resource for e in parsed.entry}

    pressure = found[str(bp["id"])]
    assert pressure.code.coding[0].system == "http://loinc.org"
    assert pressure.code.coding[0].code == "85354-9"
    assert pressure.category[0].coding[0].code == "vital-signs"
    assert [(c.code.coding[0].code, c.valueQuantity.value) for c in pressure.component] == [
        ("8480-6", 150),
        ("8462-4", 95),
    ]
    assert pressure.component[0].valueQuantity.system == "http://unitsofmeasure.org"
    assert pressure.component[0].valueQuantity.code == "mm[Hg]"
    assert pressure.valueQuantity is None and pressure.encounter is None
    assert pressure.effectiveDateTime.isoformat() == "2026-02-28T08:00:00+00:00"
    assert pressure.performer[0].reference == f"Practitioner/{ENCOUNTER.requester_id}"

    home = found[str(pulse["id"])]
    assert home.valueQuantity.code == "/min" and home.valueQuantity.value == 72
    assert home.performer[0].reference == f"Patient/{PATIENT.id}"

    lab = found[str(a1c["id"])]
    assert lab.category[0].coding[0].code == "laboratory"
    assert (lab.code.coding[0].code, float(lab.valueQuantity.value), lab.valueQuantity.code) == (
        "4548-4",
        8.2,
        "%",
    )
    assert lab.performer[0].display == "Invivo laboratory"
    assert lab.performer[0].identifier.value == system
    [provenance] = [
        r
        for r in found.values()
        if r.get_resource_type() == "Provenance" and r.target[0].reference.endswith(str(a1c["id"]))
    ]
    assert provenance.agent[0].who.display == "Invivo laboratory"
