from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from ..codes import SpecialtySlug
from ..types import IsoDateTime
from .lifecycle import Mode, Status, Urgency, call_opens_at


class ConsultationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    specialty: SpecialtySlug
    mode: Mode = Mode.video
    urgency: Urgency = Urgency.routine
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    slot_id: uuid.UUID | None = None
    specialist_id: uuid.UUID | None = None
    starts_at: IsoDateTime | None = None


class ConsultationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: Status
    patient_id: uuid.UUID
    requester_id: uuid.UUID
    specialist_id: uuid.UUID | None
    specialty: str
    mode: Mode
    urgency: Urgency
    reason: str
    slot_id: uuid.UUID | None
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    cancelled_at: datetime | None
    conclusion: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def call_opens_at(self) -> datetime | None:
        """When the video call can be joined (None for async cases)."""
        return call_opens_at(self.mode, self.starts_at)


class ConsultationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    mode: Mode | None = None
    specialty: SpecialtySlug | None = None
    from_: IsoDateTime | None = Field(default=None, alias="from")
    to: IsoDateTime | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    conclusion: Annotated[str, StringConstraints(max_length=20000)] | None = None


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The specialist (of another specialty) invited into the consultation.
    user_id: uuid.UUID


class ParticipantOut(BaseModel):
    """An invited specialist, and where the patient's consent for them stands (the request's
    status: pending until the patient confirms it, then confirmed)."""

    user_id: uuid.UUID
    role: str = "specialist"
    invited_by: uuid.UUID
    invited_at: datetime
    consent_request_id: uuid.UUID | None
    consent_status: str | None


class ParticipantPage(BaseModel):
    items: list[ParticipantOut]


class MoveIn(BaseModel):
    """Where a booked video call moves: a free slot of its specialist, or without one the
    specialist's earliest free slot."""

    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID | None = None
