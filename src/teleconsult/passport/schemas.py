from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..codes import SPECIALTIES
from ..consent.policy import Category
from ..errors import custom_error
from ..types import IsoDateTime


class Kind(StrEnum):
    note = "note"
    diagnosis = "diagnosis"
    prescription = "prescription"
    lab_result = "lab_result"
    referral = "referral"
    attachment = "attachment"
    allergy = "allergy"
    # A measurement (measurements/ and the FHIR import write it; see measurements/service.py).
    observation = "observation"


# Which consent category covers each kind of entry.
KIND_CATEGORY: dict[Kind, Category] = {
    Kind.note: Category.notes,
    Kind.diagnosis: Category.diagnoses,
    Kind.prescription: Category.prescriptions,
    Kind.lab_result: Category.lab_results,
    Kind.referral: Category.notes,
    Kind.attachment: Category.attachments,
    # Allergies and intolerances are clinical findings about the patient, read and written
    # with the diagnoses.
    Kind.allergy: Category.diagnoses,
    Kind.observation: Category.lab_results,
}


def _text(max_length: int, min_length: int = 1) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Text10 = Annotated[str, _text(10)]
Text40 = Annotated[str, _text(40)]
Text50 = Annotated[str, _text(50)]
Text100 = Annotated[str, _text(100)]
Text200 = Annotated[str, _text(200)]
Text2000 = Annotated[str, _text(2000)]
Text4000 = Annotated[str, _text(4000)]
Text20000 = Annotated[str, _text(20000)]
Optional2000 = Annotated[str, _text(2000, 0)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_Body):
    text: Text20000
    diagnoses: list[Text10] = Field(default_factory=list, max_length=20)
    amends: uuid.UUID | None = Field(default=None, description="The entry this one corrects")
    suggested: list[Text10] | None = Field(
        default=None,
        max_length=50,
        description=(
            "The ICD-10 codes coding help offered for this note, best first: kept with the "
            "note and its diagnoses (coding_feedback), not written into the passport"
        ),
    )


AtcCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")]
AtcPrefix = Annotated[
    str, StringConstraints(pattern=r"^[A-Z](?:[0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?)?$")
]


class Override(_Body):
    """The prescriber's confirmation of a prescription despite high-severity findings."""

    reason: Annotated[str, _text(2000, 5)]


class PrescriptionIn(_Body):
    medication: Text200
    dose: Text100
    route: Text50
    frequency: Text100
    duration_days: int = Field(ge=1, le=3650)
    instructions: Optional2000 = ""
    amends: uuid.UUID | None = None
    atc: AtcCode | None = Field(
        default=None, description="The formulary drug (its WHO ATC code); else matched by name"
    )
    long_term: bool = Field(
        default=False, description="A long-term drug prescribed for more than a year"
    )
    times_per_day: float | None = Field(
        default=None, gt=0, le=1000, description="Times a day, when not read from frequency"
    )
    override: Override | None = Field(
        default=None, description="Write despite high-severity findings, for this reason"
    )


class PrescriptionCheckIn(_Body):
    """A prescription to check (``amends`` names the entry it would replace)."""

    medication: Text200
    dose: Text100
    route: Text50
    frequency: Text100
    duration_days: int = Field(ge=1, le=3650)
    instructions: Optional2000 = ""
    amends: uuid.UUID | None = None
    atc: AtcCode | None = None
    long_term: bool = False
    times_per_day: float | None = Field(default=None, gt=0, le=1000)


class FindingOut(BaseModel):
    code: str = Field(description="Stable; the pages show rx.finding.<code>")
    severity: Literal["high", "moderate", "low"]
    field: str = Field(description="The prescription field it concerns")
    params: dict[str, Any]


class DrugOut(BaseModel):
    atc: str
    name: dict[str, str]
    synonyms: list[str]
    forms: list[str]
    routes: list[str]
    max_dose: dict[str, Any]
    max_dose_by_route: dict[str, dict[str, Any]]
    chronic: bool
    max_times_per_day: int
    weekly_only: bool


class PrescriptionChecksOut(BaseModel):
    findings: list[FindingOut]
    blocked: bool = Field(description="A high-severity finding: writing needs an override")
    in_formulary: bool
    drug: DrugOut | None


class AllergyBody(_Body):
    substance: Text200
    atc: AtcPrefix | None = Field(default=None, description="A drug or class, by ATC code")
    type: Literal["allergy", "intolerance"] = "allergy"
    category: Literal["medication", "food", "environment", "biologic"] = "medication"
    reaction: Optional2000 = ""
    severity: Literal["mild", "moderate", "severe"]
    status: Literal["active", "inactive", "resolved"] = "active"


class AllergyIn(AllergyBody):
    amends: uuid.UUID | None = None


class DiagnosisBody(_Body):
    code: Text10
    comment: Optional2000 = ""


class LabResultBody(_Body):
    test: Text200
    value: Annotated[float, Field(allow_inf_nan=False)] | Text200
    unit: Text40 | None = None
    reference_range: Text100 | None = None
    taken_at: IsoDateTime | None = None


class ReferralBody(_Body):
    specialty: Text40
    reason: Text4000


class AttachmentBody(_Body):
    title: Text200
    # With an uploaded file (files/), its type, hash, size and name are written in from it.
    file_id: uuid.UUID | None = None
    content_type: Text100 | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    url: Text2000 | None = None


ENTRY_BODIES: dict[Kind, type[_Body]] = {
    Kind.diagnosis: DiagnosisBody,
    Kind.lab_result: LabResultBody,
    Kind.referral: ReferralBody,
    Kind.attachment: AttachmentBody,
    Kind.allergy: AllergyBody,
}


class EntryIn(_Body):
    """Any other kind of entry (diagnosis, lab_result, referral, attachment), or a correction."""

    kind: Kind
    body: dict[str, Any]
    amends: uuid.UUID | None = None


class EntryOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    seq: int
    kind: Kind
    author_id: uuid.UUID
    consultation_id: uuid.UUID | None
    body: dict[str, Any]
    created_at: datetime
    hash: str
    amends: uuid.UUID | None = None
    superseded_by: uuid.UUID | None = Field(
        default=None, description="The newest entry that corrects this one"
    )
    history: list[uuid.UUID] = Field(
        default_factory=list, description="Earlier versions this entry replaces, newest first"
    )


class PassportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="Search the entries' text"
    )
    current: bool = Field(default=False, description="Only the newest version of each entry")
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class BadEntryOut(BaseModel):
    ledger: str
    key: str
    seq: int
    entry_id: str | None
    problem: str


class VerifyOut(BaseModel):
    ok: bool
    # Entries the caller may read; all of them for the patient and full-passport readers.
    entries: int
    # None for a reader limited to some categories.
    audit_entries: int | None
    first_bad: BadEntryOut | None = None


def validate_specialty(value: str) -> str:
    if value not in SPECIALTIES:
        raise custom_error("unknown_specialty", "unknown specialty")
    return value
