"""What the administrator's user pages send and receive."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..codes import Role
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
    """A one-time link: shown to the administrator once, stored only as a hash."""

    user: AdminUserOut
    link: str = Field(description="The path to open in the browser, with the one-time token")
    token: str
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
