"""A patient's passport as a FHIR R4 Bundle (built from plain data, validated by fhir.resources).

``fhir.resources`` 8 models R5 at its top level; R4 lives in ``fhir.resources.R4B``, the
technical correction of R4 that keeps its resource shapes.

Longer than our modules usually are, on purpose: one builder per resource the export carries,
each a few lines of FHIR shape, beside the table (``_BUILDERS``) that picks them, so that every
shape the export can take is read in one place; split, the builders would share their small
helpers (``_ref``, ``_context``, ``_period``) across modules.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

ICD10 = "http://hl7.org/fhir/sid/icd-10"
IIN_SYSTEM = "urn:oid:1.2.398.7.1.9.1"  # national identification numbers of Kazakhstan
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CHAIN_POLICY = "urn:teleconsult:passport-chain:sha256:"
ATC = "http://www.whocc.no/atc"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"

_ENCOUNTER_STATUS = {
    "requested": "planned",
    "scheduled": "planned",
    "in_progress": "in-progress",
    "completed": "finished",
    "cancelled": "cancelled",
    "no_show": "cancelled",
}


@dataclass(frozen=True)
class PatientData:
    id: str
    iin: str
    full_name: str
    birth_date: date
    sex: str
    phone: str | None


@dataclass(frozen=True)
class EncounterData:
    id: str
    status: str
    mode: str
    specialty: str
    specialist_id: str | None
    requester_id: str
    starts_at: datetime | None
    ends_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class ConsentData:
    id: str
    grantee_user_id: str | None
    grantee_facility_id: str | None
    access: str
    categories: list[str] | None
    created_at: datetime
    expires_at: datetime
    active: bool


def _ref(kind: str, ident: str | None) -> dict[str, str] | None:
    return {"reference": f"{kind}/{ident}"} if ident else None


def _period(start: datetime | None, end: datetime | None) -> dict[str, str] | None:
    period = {}
    if start is not None:
        period["start"] = start.isoformat()
    if end is not None:
        period["end"] = end.isoformat()
    return period or None


def _patient(p: PatientData) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": p.id,
        "identifier": [{"system": IIN_SYSTEM, "value": p.iin}],
        "name": [{"text": p.full_name}],
        "gender": p.sex,
        "birthDate": p.birth_date.isoformat(),
    }
    if p.phone:
        resource["telecom"] = [{"system": "phone", "value": p.phone}]
    return resource


def _encounter(e: EncounterData, patient_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": e.id,
        "status": _ENCOUNTER_STATUS.get(e.status, "unknown"),
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "serviceType": {"text": e.specialty},
        "subject": _ref("Patient", patient_id),
        "participant": [
            {"individual": ref}
            for ref in (_ref("Practitioner", e.specialist_id), _ref("Practitioner", e.requester_id))
            if ref is not None
        ],
    }
    period = _period(e.started_at or e.starts_at, e.ended_at or e.ends_at)
    if period:
        resource["period"] = period
    return resource


def _context(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    context: dict[str, Any] = {"subject": _ref("Patient", patient_id)}
    if entry["consultation_id"]:
        context["encounter"] = _ref("Encounter", entry["consultation_id"])
    return context


def _condition(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    body = entry["body"]
    resource = {
        "resourceType": "Condition",
        "id": entry["id"],
        "code": {
            "coding": [{"system": ICD10, "code": body["code"], "display": body["title"]}],
            "text": body["title"],
        },
        "recordedDate": entry["created_at"],
        "recorder": _ref("Practitioner", entry["author_id"]),
        **_context(entry, patient_id),
    }
    if body.get("comment"):
        resource["note"] = [{"text": body["comment"]}]
    return resource


def _medication_request(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    body = entry["body"]
    dosage = f"{body['dose']} {body['route']}, {body['frequency']}, {body['duration_days']} days"
    instruction: dict[str, Any] = {
        "text": dosage,
        "route": {"text": body["route"]},
        "timing": {"code": {"text": body["frequency"]}},
    }
    if body.get("instructions"):
        instruction["patientInstruction"] = body["instructions"]
    instruction = {k: v for k, v in instruction.items() if v}
    resource = {
        "resourceType": "MedicationRequest",
        "id": entry["id"],
        "status": "active" if not entry.get("superseded_by") else "entered-in-error",
        "intent": "order",
        "medicationCodeableConcept": _medication_code(body),
        "authoredOn": entry["created_at"],
        "requester": _ref("Practitioner", entry["author_id"]),
        "dosageInstruction": [instruction],
        "dispenseRequest": {
            "expectedSupplyDuration": {
                "value": body["duration_days"],
                "unit": "days",
                "system": UCUM,
                "code": "d",
            }
        },
        **_context(entry, patient_id),
    }
    note = _checks_note(body)
    if note:
        resource["note"] = note
    return resource


def _medication_code(body: dict[str, Any]) -> dict[str, Any]:
    """The medication as typed, with its WHO ATC code when the formulary knows it."""
    concept: dict[str, Any] = {"text": body["medication"]}
    if body.get("atc"):
        concept["coding"] = [{"system": ATC, "code": body["atc"]}]
    return concept


def _checks_note(body: dict[str, Any]) -> list[dict[str, str]]:
    """A prescription written despite high-severity findings carries the prescriber's reason."""
    checks = body.get("checks") or {}
    reason = checks.get("override_reason")
    if not reason:
        return []
    codes = ", ".join(f["code"] for f in checks.get("findings", []) if f["severity"] == "high")
    return [{"text": f"Confirmed despite findings ({codes}): {reason}"}]


def _allergy_intolerance(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    body = entry["body"]
    status = "entered-in-error" if entry.get("superseded_by") else "confirmed"
    code: dict[str, Any] = {"text": body["substance"]}
    if body.get("atc"):
        code["coding"] = [{"system": ATC, "code": body["atc"]}]
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": entry["id"],
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": status}]},
        "type": body.get("type", "allergy"),
        "category": [body.get("category", "medication")],
        "criticality": "high" if body.get("severity") == "severe" else "low",
        "code": code,
        "patient": _ref("Patient", patient_id),
        "recordedDate": entry["created_at"],
        "recorder": _ref("Practitioner", entry["author_id"]),
    }
    if status != "entered-in-error":
        # The clinical status is absent from an entry recorded in error (FHIR invariant ait-2).
        resource["clinicalStatus"] = {
            "coding": [{"system": ALLERGY_CLINICAL, "code": body.get("status", "active")}]
        }
    if entry["consultation_id"]:
        resource["encounter"] = _ref("Encounter", entry["consultation_id"])
    reaction: dict[str, Any] = {
        "manifestation": [{"text": body.get("reaction") or body["substance"]}],
    }
    if body.get("severity"):
        reaction["severity"] = body["severity"]
    if body.get("reaction"):
        reaction["description"] = body["reaction"]
    resource["reaction"] = [reaction]
    return resource


def _observation(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    body = entry["body"]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": entry["id"],
        "status": "final" if not entry.get("superseded_by") else "amended",
        "issued": entry["created_at"],
        "performer": [_ref("Practitioner", entry["author_id"])],
        **_context(entry, patient_id),
    }
    if entry["kind"] == "lab_result":
        resource["category"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ]
        resource["code"] = {"text": body["test"]}
        value = body["value"]
        if isinstance(value, (int, float)):
            quantity: dict[str, Any] = {"value": value}
            if body.get("unit"):
                quantity["unit"] = body["unit"]
            resource["valueQuantity"] = quantity
        else:
            resource["valueString"] = str(value)
        if body.get("reference_range"):
            resource["referenceRange"] = [{"text": body["reference_range"]}]
        if body.get("taken_at"):
            resource["effectiveDateTime"] = body["taken_at"]
    else:
        # Clinical notes and referrals travel as narrative observations.
        label = "Clinical note" if entry["kind"] == "note" else "Referral"
        resource["code"] = {"text": label}
        text = body.get("text") or f"{body.get('specialty', '')}: {body.get('reason', '')}"
        resource["valueString"] = text
    return resource


# Measurements of the follow-up programmes (programmes/catalogue.py: MEASURES) taken in a
# laboratory; the others are vital signs.
_LABORATORY_MEASURES = frozenset({"hba1c", "glucose"})
SYSTEM_ACCOUNT = "urn:teleconsult:system-account"


def _category(code: str) -> list[dict[str, Any]]:
    return [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": code,
                }
            ]
        }
    ]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _loinc_code(code: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://loinc.org", "code": code}]}


def _measured_by(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """Who took a measurement: the patient at home, the clinician who entered it, or the
    system (a laboratory) that sent it, named by its account."""
    body = entry["body"]
    if body.get("source") == "patient":
        return {"reference": f"Patient/{patient_id}"}
    provenance = body.get("provenance")
    if body.get("measured_by") is None and provenance:
        return {
            "identifier": {"system": SYSTEM_ACCOUNT, "value": provenance["system_id"]},
            "display": provenance["system"],
        }
    return {"reference": f"Practitioner/{body.get('measured_by') or entry['author_id']}"}


def _measurement(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """A measurement (blood pressure, HbA1c, ...): LOINC-coded, its value in UCUM, when it was
    taken and by whom; blood pressure as the panel with its systolic and diastolic parts."""
    body = entry["body"]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": entry["id"],
        "status": "final" if not entry.get("superseded_by") else "amended",
        "category": _category(
            "laboratory" if body["measure"] in _LABORATORY_MEASURES else "vital-signs"
        ),
        "code": _loinc_code(body["loinc"]),
        "effectiveDateTime": body["measured_at"],
        "issued": entry["created_at"],
        "performer": [_measured_by(entry, patient_id)],
        **_context(entry, patient_id),
    }
    if body.get("components"):
        resource["component"] = [
            {
                "code": _loinc_code(part["loinc"]),
                "valueQuantity": _quantity(part["value"], part["unit"]),
            }
            for part in body["components"]
        ]
    else:
        resource["valueQuantity"] = _quantity(body["value"], body["unit"])
    return resource


def _consent(c: ConsentData, patient_id: str) -> dict[str, Any]:
    actor = _ref("Practitioner", c.grantee_user_id) or _ref("Organization", c.grantee_facility_id)
    provision: dict[str, Any] = {
        "type": "permit",
        "period": _period(c.created_at, c.expires_at),
        "actor": [{"role": {"text": "grantee"}, "reference": actor}],
        "action": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                        "code": "access",
                    }
                ]
            }
        ]
        + (
            [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                            "code": "correct",
                        }
                    ]
                }
            ]
            if c.access == "read_write"
            else []
        ),
    }
    if c.categories:
        provision["class"] = [
            {"system": "urn:teleconsult:consent-category", "code": cat} for cat in c.categories
        ]
    return {
        "resourceType": "Consent",
        "id": c.id,
        "status": "active" if c.active else "inactive",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": "59284-0"}]}],
        "patient": _ref("Patient", patient_id),
        "dateTime": c.created_at.isoformat(),
        "policyRule": {"text": "Patient consent to the health passport"},
        "provision": provision,
    }


def _author(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Who wrote an entry: a clinician, or the system (a laboratory) that sent it."""
    provenance = entry["body"].get("provenance")
    if provenance and provenance.get("system_id") == entry["author_id"]:
        return {
            "identifier": {"system": SYSTEM_ACCOUNT, "value": provenance["system_id"]},
            "display": provenance["system"],
        }
    return _ref("Practitioner", entry["author_id"])


def _provenance(entry: dict[str, Any], resource_type: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"teleconsult:provenance:{entry['id']}")),
        "target": [_ref(resource_type, entry["id"])],
        "recorded": entry["created_at"],
        "policy": [CHAIN_POLICY + entry["hash"]],
        "agent": [
            {
                "type": {"coding": [{"system": PROVENANCE_AGENT, "code": "author"}]},
                "who": _author(entry),
            }
        ],
    }
    if entry.get("amends"):
        resource["entity"] = [{"role": "revision", "what": _ref(resource_type, entry["amends"])}]
    return resource


# A file's SHA-256 (hex), as the passport's chain carries it.
FILE_HASH_SYSTEM = "urn:teleconsult:file-sha256"


def binary_id(sha256: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"teleconsult:binary:{sha256}"))


def _document_reference(entry: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """An attached file: its type, size, name and hash; its content as a URL of the API, or
    the bundle's Binary when the export carries the files."""
    body = entry["body"]
    attachment: dict[str, Any] = {
        "contentType": body["content_type"],
        "url": f"/api/v1/files/{body['file_id']}",
        "title": body.get("name") or body["title"],
        "creation": entry["created_at"],
    }
    if body.get("size") is not None:
        attachment["size"] = body["size"]
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": entry["id"],
        "status": "current" if not entry.get("superseded_by") else "superseded",
        "identifier": [{"system": FILE_HASH_SYSTEM, "value": body["sha256"]}],
        "description": body["title"],
        "subject": _ref("Patient", patient_id),
        "date": entry["created_at"],
        "author": [_ref("Practitioner", entry["author_id"])],
        "content": [{"attachment": attachment}],
    }
    if entry["consultation_id"]:
        resource["context"] = {"encounter": [_ref("Encounter", entry["consultation_id"])]}
    return resource


def _binary(sha256: str, content_type: str, data: bytes) -> dict[str, Any]:
    return {
        "resourceType": "Binary",
        "id": binary_id(sha256),
        "contentType": content_type,
        "data": base64.b64encode(data).decode(),
    }


_BUILDERS = {
    "attachment": ("DocumentReference", _document_reference),
    "diagnosis": ("Condition", _condition),
    "prescription": ("MedicationRequest", _medication_request),
    "lab_result": ("Observation", _observation),
    "note": ("Observation", _observation),
    "referral": ("Observation", _observation),
    "allergy": ("AllergyIntolerance", _allergy_intolerance),
    "observation": ("Observation", _measurement),
}


def build_bundle(
    patient: PatientData,
    entries: list[dict[str, Any]],
    encounters: list[EncounterData],
    consents: list[ConsentData],
    *,
    now: datetime,
    binaries: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """A ``collection`` Bundle: the patient, encounters, clinical resources, consents, and one
    Provenance per passport entry carrying the entry's chain hash."""
    resources: list[dict[str, Any]] = [_patient(patient)]
    resources += [_encounter(e, patient.id) for e in encounters]
    provenance = []
    binary_resources: list[dict[str, Any]] = []
    for entry in entries:
        built = _BUILDERS.get(entry["kind"])
        if built is None or (entry["kind"] == "attachment" and not entry["body"].get("file_id")):
            continue  # an attachment without an uploaded file has nothing to point to
        resource_type, build = built
        resource = build(entry, patient.id)
        resources.append(resource)
        provenance.append(_provenance(entry, resource_type))
        sha256 = entry["body"].get("sha256") if entry["kind"] == "attachment" else None
        if binaries is not None and sha256 in binaries:
            content_type = entry["body"]["content_type"]
            resource["content"][0]["attachment"]["url"] = f"urn:uuid:{binary_id(sha256)}"
            if not any(r["id"] == binary_id(sha256) for r in binary_resources):
                binary_resources.append(_binary(sha256, content_type, binaries[sha256]))
    resources += [_consent(c, patient.id) for c in consents]
    resources += provenance
    resources += binary_resources
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def validate(bundle: dict[str, Any]) -> dict[str, Any]:
    """Validate with the fhir.resources R4 models; returns the bundle as they serialise it."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        model = Bundle.model_validate(bundle)
    except ValidationError as exc:
        # Our own output is wrong: a server fault, never reported as the caller's 422.
        raise RuntimeError(
            f"the FHIR bundle does not validate: {exc.error_count()} errors"
        ) from None
    return dict(model.model_dump(mode="json", exclude_none=True))
