"""Allergies as FHIR AllergyIntolerance, and checked prescriptions as MedicationRequest."""

from __future__ import annotations

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from teleconsult.fhir.bundle import ATC, build_bundle, validate

from .test_fhir_bundle import ENCOUNTER, NOW, PATIENT, entry


def _resources(entries: list[dict[str, object]]) -> list[object]:
    bundle = Bundle.model_validate(
        validate(build_bundle(PATIENT, entries, [ENCOUNTER], [], now=NOW))
    )
    return [e.resource for e in bundle.entry or []]


def test_allergy_entries_become_allergy_intolerances() -> None:
    allergy = {
        "substance": "Пенициллины",
        "atc": "J01C",
        "type": "allergy",
        "category": "medication",
        "reaction": "urticaria",
        "severity": "severe",
        "status": "active",
    }
    food = {
        "substance": "Peanuts",
        "atc": None,
        "type": "intolerance",
        "category": "food",
        "reaction": "",
        "severity": "mild",
        "status": "resolved",
    }
    resources = _resources([entry(1, "allergy", allergy), entry(2, "allergy", food)])
    found = [r for r in resources if isinstance(r, AllergyIntolerance)]
    assert len(found) == 2
    first, second = found
    assert first.code.text == "Пенициллины"
    assert first.code.coding[0].system == ATC and first.code.coding[0].code == "J01C"
    assert first.clinicalStatus.coding[0].code == "active"
    assert first.verificationStatus.coding[0].code == "confirmed"
    assert first.criticality == "high" and first.category == ["medication"]
    assert first.reaction[0].severity == "severe"
    assert first.reaction[0].manifestation[0].text == "urticaria"
    assert first.patient.reference == f"Patient/{PATIENT.id}"
    assert first.encounter.reference == f"Encounter/{ENCOUNTER.id}"
    assert second.type == "intolerance" and second.category == ["food"]
    assert second.clinicalStatus.coding[0].code == "resolved"
    assert second.code.coding is None
    provenance = [r for r in resources if r.get_resource_type() == "Provenance"]
    assert {p.target[0].reference for p in provenance} == {
        f"AllergyIntolerance/{e.id}" for e in found
    }


def test_a_corrected_allergy_is_entered_in_error() -> None:
    body = {"substance": "Amoxicillin", "severity": "moderate", "reaction": "rash"}
    old = entry(1, "allergy", body)
    old["superseded_by"] = "7d0b5c1e-0000-4000-8000-000000000102"
    [resource] = [r for r in _resources([old]) if isinstance(r, AllergyIntolerance)]
    assert resource.verificationStatus.coding[0].code == "entered-in-error"
    assert resource.clinicalStatus is None


def test_a_confirmed_prescription_carries_its_atc_code_and_reason() -> None:
    body = {
        "medication": "Spironolactone",
        "dose": "25 mg",
        "route": "oral",
        "frequency": "once daily",
        "duration_days": 30,
        "instructions": "",
        "atc": "C03DA01",
        "in_formulary": True,
        "long_term": False,
        "checks": {
            "formulary": "2026-12",
            "findings": [
                {
                    "code": "interaction",
                    "severity": "high",
                    "field": "medication",
                    "params": {"interaction": "hyperkalaemia"},
                }
            ],
            "override_reason": "Heart failure; potassium checked weekly",
        },
    }
    [request] = [
        r for r in _resources([entry(1, "prescription", body)]) if isinstance(r, MedicationRequest)
    ]
    assert request.medicationCodeableConcept.coding[0].code == "C03DA01"
    assert request.note[0].text == (
        "Confirmed despite findings (interaction): Heart failure; potassium checked weekly"
    )
