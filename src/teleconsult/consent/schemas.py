from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..accounts.schemas import FacilityRef, PersonOut
from ..types import IsoDateTime
from .policy import Category, GrantAccess


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grantee_user_id: uuid.UUID | None = None
    grantee_facility_id: uuid.UUID | None = None
    access: GrantAccess
    categories: list[Category] | None = Field(
        default=None, min_length=1, description="Omit for every category"
    )
    expires_at: IsoDateTime = Field(description="At most one year ahead")


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    grantee_user_id: uuid.UUID | None
    grantee_facility_id: uuid.UUID | None
    access: GrantAccess
    categories: list[Category] | None
    expires_at: datetime
    created_at: datetime
    source: str
    revoked_at: datetime | None
    active: bool = False
    grantee: PersonOut | None = Field(default=None, description="The user granted, by name")
    grantee_facility: FacilityRef | None = Field(
        default=None, description="The facility granted, by name"
    )


class ConsentRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grantee_user_id: uuid.UUID
    access: GrantAccess
    categories: list[Category] | None = Field(default=None, min_length=1)
    expires_at: IsoDateTime
    consultation_id: uuid.UUID | None = Field(
        default=None,
        description="The consultation this request is for (yours, for the same patient)",
    )


class RequestStatus(StrEnum):
    """pending → confirmed (a grant), declined (by the patient), withdrawn (by a clinician,
    or when the consultation it was made for is cancelled) or locked (too many wrong codes);
    never reopened."""

    pending = "pending"
    confirmed = "confirmed"
    declined = "declined"
    withdrawn = "withdrawn"
    locked = "locked"


class ConsultationBrief(BaseModel):
    """The consultation a consent request was made for, as the patient recognises it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    specialty: str
    mode: str
    status: str
    starts_at: datetime | None


class ConsentRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    grantee_user_id: uuid.UUID
    access: GrantAccess
    categories: list[Category] | None
    expires_at: datetime
    requested_by: uuid.UUID
    consultation_id: uuid.UUID | None
    created_at: datetime
    status: RequestStatus
    code_expires_at: datetime | None
    grant_id: uuid.UUID | None
    grant_active: bool | None = Field(
        default=None,
        description="For a confirmed request: whether its grant still permits (not revoked "
        "or expired)",
    )
    grantee: PersonOut | None = Field(default=None, description="Who would get access, by name")
    requester: PersonOut | None = Field(default=None, description="Who asked, by name")
    consultation: ConsultationBrief | None = None


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = Field(
        default=None, description="The one-time code; not needed when the patient confirms"
    )


class BreakGlassIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=2000)]
    minutes: int = Field(default=240, ge=1, le=240, description="At most 4 hours")


class BreakGlassOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    actor_id: uuid.UUID
    reason: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    actor: PersonOut | None = Field(default=None, description="Who opened it, by name")
    patient_name: str | None = Field(
        default=None, description="Whose passport, by name (in the administrators' review)"
    )


class BreakGlassQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
