from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..types import ClinicalDate, Phone

Sex = Literal["male", "female"]


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iin: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] = Field(
        description="12-digit individual identification number"
    )
    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    birth_date: ClinicalDate
    sex: Sex
    phone: Phone | None = None
    facility_id: uuid.UUID | None = Field(
        default=None, description="Attach to this facility (admins); GPs attach to their own"
    )


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    iin: str
    full_name: str
    birth_date: date
    sex: Sex
    phone: str | None
    facility_id: uuid.UUID | None
    created_at: datetime


class PatientQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iin: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        default=None,
        description="Part of the patient's name (any case, any script) or the IIN's first digits",
    )
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
