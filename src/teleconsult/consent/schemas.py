from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from .policy import Category, GrantAccess


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grantee_user_id: uuid.UUID | None = None
    grantee_facility_id: uuid.UUID | None = None
    access: GrantAccess
    categories: list[Category] | None = Field(
        default=None, min_length=1, description="Omit for every category"
    )
    expires_at: AwareDatetime = Field(description="At most one year ahead")


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


class ConsentRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grantee_user_id: uuid.UUID
    access: GrantAccess
    categories: list[Category] | None = Field(default=None, min_length=1)
    expires_at: AwareDatetime
    consultation_id: uuid.UUID | None = Field(
        default=None,
        description="The consultation this request is for (yours, for the same patient)",
    )


class RequestStatus(StrEnum):
    """pending → confirmed (a grant), declined (by the patient) or withdrawn (by a clinician,
    or when the consultation it was made for is cancelled); never reopened."""

    pending = "pending"
    confirmed = "confirmed"
    declined = "declined"
    withdrawn = "withdrawn"


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


class BreakGlassQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
