from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from ..codes import Language, Role, SpecialtySlug
from ..errors import custom_error
from ..types import Email, Phone
from .passwords import MIN_LENGTH, password_problem

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=80, pattern=r"^[\w.@-]+$"),
]


def _acceptable(password: str) -> str:
    problem = password_problem(password)
    if problem and len(password) < MIN_LENGTH:
        raise custom_error("password_too_short", problem, min_length=MIN_LENGTH)
    if problem:
        raise custom_error("password_common", problem)
    return password


NewPassword = Annotated[str, StringConstraints(max_length=1024), AfterValidator(_acceptable)]
"""A password being set: checked for length and against the common ones."""


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
    language: Language | None = None


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class LogoutOut(BaseModel):
    ok: bool


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: NewPassword
    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    role: Role
    facility_id: uuid.UUID | None = None
    specialties: list[SpecialtySlug] | None = Field(default=None, max_length=10)
    patient_id: uuid.UUID | None = None
    on_call: bool = False
    email: Email | None = Field(default=None, description="Where one-time links are sent")
    phone: Phone | None = Field(
        default=None, description="For staff without e-mail: one-time links by SMS"
    )

    @field_validator("specialties")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted(set(value))


class MeUpdate(BaseModel):
    """What a user may change of their own account."""

    model_config = ConfigDict(extra="forbid")

    language: Language = Field(description="The language the pages speak: en, kk or ru")


class UserStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool


class PersonOut(BaseModel):
    """Someone as the pages name them to others: a clinician or administrator by name, role,
    facility and specialties. A patient account is named only to that patient's own records
    (their access log); anywhere else its ``name`` is withheld (None). A system account is
    named with its kind as its role (``laboratory``, ``hospital``) and its facility."""

    id: uuid.UUID
    name: str | None
    role: Role | Literal["laboratory", "hospital"]
    facility: str | None = None
    specialties: list[str] = []


class FacilityRef(BaseModel):
    """A clinic or hospital as named beside a grant or a person."""

    id: uuid.UUID
    name: str
    region: str


SearchText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class PeopleQuery(BaseModel):
    """Either ``ids`` (name these users) or ``q`` (find clinicians by name)."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[str, StringConstraints(min_length=1, max_length=3700)] | None = Field(
        default=None, description="Comma-separated user ids, at most 100"
    )
    q: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)] | None
    ) = Field(default=None, description="Part of a clinician's name, at least 2 characters")

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts or len(parts) > 100:
            raise custom_error(
                "ids_count", "between 1 and {max_ids} comma-separated user ids", max_ids=100
            )
        for part in parts:
            try:
                uuid.UUID(part)
            except ValueError:
                raise custom_error("ids_not_ids", "not a user id: each must be a UUID") from None
        return ",".join(parts)

    def parsed(self) -> list[uuid.UUID]:
        return [uuid.UUID(p) for p in self.ids.split(",")] if self.ids else []
