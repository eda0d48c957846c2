from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..codes import Role, SpecialtySlug

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=80, pattern=r"^[\w.@-]+$"),
]


class LoginIn(BaseModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    facility_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    specialties: list[str] = []
    is_active: bool
    on_call: bool
    created_at: datetime


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    role: Role
    facility_id: uuid.UUID | None = None
    specialties: list[SpecialtySlug] | None = Field(default=None, max_length=10)
    patient_id: uuid.UUID | None = None
    on_call: bool = False

    @field_validator("specialties")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted(set(value))


class UserStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool
