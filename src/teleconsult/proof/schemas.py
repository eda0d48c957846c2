from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..accounts.schemas import PersonOut
from ..types import ClinicalDate
from .flags import Reason


class FlagStatus(StrEnum):
    open = "open"
    resolved = "resolved"
    all = "all"


class ReportQuery(BaseModel):
    """Months are national (UTC+5) calendar months; ``from`` and ``to`` days are included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: ClinicalDate | None = Field(default=None, alias="from")
    to: ClinicalDate | None = None
    status: FlagStatus = FlagStatus.all


class ReportRow(BaseModel):
    """Flagged consultations of one facility's patients with one specialist in one month."""

    month: date
    facility_id: uuid.UUID | None
    facility: str | None
    specialist_id: uuid.UUID | None
    specialist: str | None
    consultations: int
    no_joint_minute: int
    no_conclusion: int
    before_slot: int
    open: int
    resolved: int


class Report(BaseModel):
    from_date: date
    to_date: date
    items: list[ReportRow]


class FlagQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: ClinicalDate | None = None
    facility_id: uuid.UUID | None = None
    specialist_id: uuid.UUID | None = None
    status: FlagStatus = FlagStatus.all
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


class StayOut(BaseModel):
    """One participant's stay in the call: the evidence behind ``connected_seconds``."""

    person: PersonOut | None
    role: str
    joined_at: datetime
    left_at: datetime | None


class FlagOut(BaseModel):
    id: uuid.UUID
    consultation_id: uuid.UUID
    reason: Reason
    specialty: str
    mode: str
    starts_at: datetime | None
    started_at: datetime | None
    completed_at: datetime
    facility: str | None
    specialist: PersonOut | None
    connected_seconds: float | None
    stays: list[StayOut]
    resolved_at: datetime | None
    resolved_by: PersonOut | None
    resolution: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
