"""What a request asks to append to the passport, validated into drafts: a note and the
diagnoses it names (ICD-10, 422 naming the field), a prescription, a generic entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import ValidationFailed, field_error, validation_failed
from . import icd10
from .prescriptions import allergy_body, prescription_body
from .schemas import (
    ENTRY_BODIES,
    AllergyBody,
    EntryIn,
    Kind,
    NoteIn,
    PrescriptionIn,
    validate_specialty,
)


@dataclass(frozen=True)
class Draft:
    """An entry about to be appended: its kind, its validated body, what it corrects."""

    kind: Kind
    body: dict[str, Any]
    amends: uuid.UUID | None = None


def _diagnosis(code: str, field: str) -> dict[str, str]:
    try:
        dotted, title = icd10.diagnosis(code)
    except ValueError as exc:
        code = "icd10_unknown" if "unknown" in str(exc) else "icd10_invalid"
        raise field_error(field, str(exc), code) from None
    return {"code": dotted, "title": title}


def note_drafts(data: NoteIn) -> list[Draft]:
    """A note, plus one diagnosis entry per ICD-10 code it names (each validated, 422)."""
    diagnoses = [_diagnosis(code, f"diagnoses.{i}") for i, code in enumerate(data.diagnoses)]
    note = Draft(Kind.note, {"text": data.text, "diagnoses": diagnoses}, data.amends)
    return [note] + [Draft(Kind.diagnosis, {**d, "comment": ""}) for d in diagnoses]


def prescription_draft(data: PrescriptionIn) -> Draft:
    """A prescription entry (medication, dose, route, frequency, duration, instructions);
    its checks are added when it is written (:func:`write_prescription`)."""
    return Draft(Kind.prescription, prescription_body(data), data.amends)


def prescription_input(raw: dict[str, Any]) -> PrescriptionIn:
    """A prescription sent as a generic entry's body (422 naming ``body.<field>``)."""
    try:
        return PrescriptionIn.model_validate(raw)
    except ValidationError as exc:
        failed = validation_failed(exc)
        fields = {f"body.{k}": v for k, v in (failed.fields or {}).items()}
        codes = {f"body.{k}": v for k, v in (failed.field_codes or {}).items()}
        raise ValidationFailed(
            "Invalid " + ", ".join(sorted(fields)), fields=fields, field_codes=codes
        ) from None


def entry_draft(data: EntryIn) -> Draft:
    """Validate a generic entry's body for its kind."""
    if data.kind == Kind.note:
        return note_drafts(NoteIn.model_validate({**data.body, "amends": data.amends}))[0]
    if data.kind == Kind.prescription:
        return prescription_draft(
            PrescriptionIn.model_validate({**data.body, "amends": data.amends})
        )
    if data.kind not in ENTRY_BODIES:
        raise field_error("kind", "measurements are written on their own page", "kind_not_writable")
    try:
        body = ENTRY_BODIES[data.kind].model_validate(data.body).model_dump(mode="json")
    except ValidationError as exc:
        raise validation_failed(exc, prefix="body.") from None
    if data.kind == Kind.diagnosis:
        body.update(_diagnosis(body["code"], "body.code"))
    if data.kind == Kind.allergy:
        body = allergy_body(AllergyBody.model_validate(body))
    if data.kind == Kind.attachment and body["file_id"] is None:
        del body["file_id"]
        if body["content_type"] is None:
            raise field_error("body.content_type", "a type or a file is needed", "missing")
    if data.kind == Kind.referral:
        try:
            validate_specialty(body["specialty"])
        except ValueError:
            raise field_error("body.specialty", "unknown specialty", "unknown_specialty") from None
    return Draft(data.kind, body, data.amends)
