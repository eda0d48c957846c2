"""What the administrator's user pages send and receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..codes import Role
from ..types import Email
from .schemas import NewPassword, Username

SearchText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class UserQuery(BaseModel):
    """A page of accounts by name; ``q`` matches the name or username (any case)."""

    model_config = ConfigDict(extra="forbid")

    q: SearchText | None = None
    role: Role | None = None
    cursor: str | None = None
    limit: int = Field(default=25, ge=1, le=500)


class AdminUserOut(BaseModel):
    """An account as its administrator sees it in the list (never its password)."""

    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    facility: str | None
    is_active: bool
    created_at: datetime


class ResetLinkOut(BaseModel):
    """A one-time link, stored only as a hash: sent to the person by their channel, and
    answered here (once) only when no channel is configured (development)."""

    user: AdminUserOut
    sent_by: Literal["sms", "email"] | None = Field(
        description="The channel the link was sent by; null: nobody could be reached"
    )
    sent_to: str | None = Field(description="Enough of the address to recognise it")
    link: str | None = Field(
        description="The path to open in the browser, with the one-time token; "
        "null once it was sent by a configured channel"
    )
    token: str | None
    expires_at: datetime


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: NewPassword


class PasswordResetOut(BaseModel):
    ok: bool
    username: str


class PatientQuery(BaseModel):
    """Patients found by name or IIN, to give one an account."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]
    limit: int = Field(default=20, ge=1, le=50)


class PatientPick(BaseModel):
    """A patient as offered for picking: enough to tell two people of one name apart."""

    id: uuid.UUID
    full_name: str
    iin: str
    birth_date: date
    has_account: bool


class PatientAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: Email | None = Field(
        default=None, description="Send the link by e-mail (else by SMS to the record's phone)"
    )
