from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..codes import SpecialtySlug
from ..errors import custom_error
from .catalogue import MEASURES

Icd10Category = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")
]


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: str
    low: float | None = Field(default=None, allow_inf_nan=False)
    high: float | None = Field(default=None, allow_inf_nan=False)
    high2: float | None = Field(default=None, allow_inf_nan=False, description="Diastolic")

    @field_validator("measure")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in MEASURES:
            raise custom_error("unknown_measure", "unknown measurement")
        return value


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    icd10: list[str]
    visit_interval_days: int
    targets: list[TargetIn]
    review_specialty: str | None
    review_interval_days: int
    source: str
    updated_at: datetime | None = None


class ProgrammeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    icd10: list[Icd10Category] = Field(min_length=1, max_length=50)
    visit_interval_days: int = Field(ge=7, le=730)
    targets: list[TargetIn] = Field(max_length=20)
    review_specialty: SpecialtySlug | None = None
    review_interval_days: int = Field(default=365, ge=30, le=1095)
    source: str = Field(default="", max_length=200)


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programme: str = Field(min_length=1, max_length=40)


class EnrolmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    programme: str
    enrolled_by: uuid.UUID
    enrolled_at: datetime
    ended_at: datetime | None = None


class PatientProgrammesOut(BaseModel):
    enrolments: list[EnrolmentOut]
    # Programmes whose ICD-10 codes match a diagnosis in the passport, not yet enrolled in
    # (only when the caller may read the patient's diagnoses).
    proposed: list[str]


class FollowUpRow(BaseModel):
    enrolment_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    programme: str
    enrolled_at: datetime
    last_visit: datetime | None
    visit_due: datetime
    last_measurement: datetime | None
    measurement_due: datetime | None
    missing_measures: list[str]
    last_review: datetime | None
    review_due: datetime | None
    review_specialty: str | None
    overdue: list[str] = Field(description="visit, measurement, review: what is past due")
    overdue_since: datetime | None
    attention: int = Field(description="Open out-of-target measurements")


class FollowUpOut(BaseModel):
    items: list[FollowUpRow]
