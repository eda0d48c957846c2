"""System accounts: laboratories and hospital information systems that push results.

An administrator creates one for a facility; it is shown its API key once
(``tcs_<account id hex>_<secret>``), of which only an argon2 hash is kept, as for passwords.
A system account signs in with nothing else, reads nothing, and writes only through
``POST /api/v1/fhir`` (fhir/imports.py) for the patients its facility serves.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey
from ..errors import NotFound, Unauthorized
from ..facilities.models import Facility
from .passwords import Passwords

PREFIX = "tcs_"


class SystemAccount(UUIDPrimaryKey, Base):
    __tablename__ = "system_accounts"

    name: Mapped[str] = mapped_column(String(200))
    # "laboratory" or "hospital"
    kind: Mapped[str] = mapped_column(String(20))
    facility_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("facilities.id"))
    key_hash: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SystemAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern="^(laboratory|hospital)$")
    facility_id: uuid.UUID


class SystemAccountOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    facility_id: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None = None


class SystemAccountCreated(SystemAccountOut):
    api_key: str = Field(description="Shown once: only its hash is kept")


async def create_system_account(
    session: AsyncSession,
    passwords: Passwords,
    admin_id: uuid.UUID,
    data: SystemAccountIn,
    *,
    now: datetime,
) -> SystemAccountCreated:
    if await session.get(Facility, data.facility_id) is None:
        raise NotFound("No such facility.", code="facility_not_found")
    account_id = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    account = SystemAccount(
        id=account_id,
        name=data.name,
        kind=data.kind,
        facility_id=data.facility_id,
        key_hash=await passwords.hash(secret),
        created_by=admin_id,
        created_at=now,
    )
    session.add(account)
    await session.flush()
    return SystemAccountCreated(
        **SystemAccountOut.model_validate(account, from_attributes=True).model_dump(),
        api_key=f"{PREFIX}{account_id.hex}_{secret}",
    )


async def list_system_accounts(session: AsyncSession) -> list[SystemAccountOut]:
    rows = await session.scalars(select(SystemAccount).order_by(SystemAccount.created_at))
    return [SystemAccountOut.model_validate(r, from_attributes=True) for r in rows]


async def authenticate_system(
    session: AsyncSession, passwords: Passwords, authorization: str | None
) -> SystemAccount:
    """The system account named by ``Authorization: Bearer tcs_...``; 401 otherwise."""
    refused = Unauthorized("A valid system API key is required.", code="system_key_invalid")
    if not authorization or not authorization.startswith("Bearer " + PREFIX):
        raise refused
    key = authorization[len("Bearer " + PREFIX) :]
    ident, _, secret = key.partition("_")
    try:
        account_id = uuid.UUID(hex=ident)
    except ValueError:
        raise refused from None
    account = await session.get(SystemAccount, account_id)
    hashed = account.key_hash if account is not None and account.revoked_at is None else None
    if not await passwords.verify(hashed, secret) or account is None:
        raise refused
    return account
