"""The administrator's account work: the list of users, disabling and enabling, one-time
password-reset links, and a patient's account made from the patient's record.

A reset link's token is random (256 bits), stored only as its SHA-256, works once and for
:data:`RESET_TTL`; it is sent to the person by SMS or e-mail through the messages outbox
(notify/), answered to the administrator only when no channel is configured, and never
logged (it travels in the link's fragment, which browsers do not send, and then in a
request body).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit.service import record
from ..codes import Role
from ..db.paging import keyset_page
from ..errors import Conflict, DomainError, NotFound
from ..facilities.models import Facility
from ..facilities.names import localized
from ..notify.service import Reach, link_sent
from ..patients.models import Patient
from ..patients.service import get_patient
from . import sessions
from .admin_schemas import (
    AdminUserOut,
    PasswordResetIn,
    PasswordResetOut,
    PatientAccountIn,
    PatientPick,
    PatientQuery,
    ResetLinkOut,
    UserQuery,
)
from .auth import token_hash
from .guests import is_call_account, patient_user
from .models import AuthToken, PasswordReset, User
from .passwords import Passwords

RESET_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Sending:
    """How a link leaves the service: the channels there are, and the address it starts with."""

    reach: Reach
    base_url: str


RESET_PATH = "/#/reset/"


class ResetLinkInvalid(DomainError):
    status = 400
    default_detail = "This password-reset link is not valid: used, expired or unknown."
    default_code = "reset_link_invalid"


def _escaped(text: str) -> str:
    return text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _folded(session: AsyncSession, column: object) -> object:
    # Any script, any case: lower() on PostgreSQL; casefold() on SQLite (db/engine.py).
    sqlite = session.get_bind().dialect.name == "sqlite"
    return (func.casefold if sqlite else func.lower)(column)


async def _facility_names(
    session: AsyncSession, ids: set[uuid.UUID], language: str
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Facility.id, Facility.name, Facility.name_kk, Facility.name_ru).where(
            Facility.id.in_(ids)
        )
    )
    return {r.id: localized(r.name, r.name_kk, r.name_ru, language) for r in rows}


async def _outs(session: AsyncSession, users: list[User], language: str) -> list[AdminUserOut]:
    names = await _facility_names(
        session, {u.facility_id for u in users if u.facility_id is not None}, language
    )
    return [
        AdminUserOut(
            id=u.id,
            username=u.username,
            full_name=u.full_name,
            role=Role(u.role),
            facility=names.get(u.facility_id) if u.facility_id is not None else None,
            is_active=u.is_active,
            created_at=u.created_at,
        )
        for u in users
    ]


async def list_users(
    session: AsyncSession, q: UserQuery, language: str
) -> tuple[list[AdminUserOut], str | None]:
    """A page of accounts by name (then id), found by part of the name or the username."""
    stmt = select(User)
    if q.role is not None:
        stmt = stmt.where(User.role == q.role.value)
    if q.q:
        needle = f"%{_escaped(q.q)}%"
        stmt = stmt.where(
            or_(
                _folded(session, User.full_name).like(needle, escape="\\"),  # type: ignore[attr-defined]
                _folded(session, User.username).like(needle, escape="\\"),  # type: ignore[attr-defined]
            )
        )
    rows, nxt = await keyset_page(session, stmt, [User.full_name, User.id], q.cursor, q.limit)
    return await _outs(session, rows, language), nxt


async def _user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def _end_sessions(session: AsyncSession, user: User, now: datetime) -> None:
    """Revoke every open session of the user; their websockets close once this commits."""
    await session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    sessions.announce_disabled(session, user.id)


async def set_active(
    session: AsyncSession,
    admin: User,
    user_id: uuid.UUID,
    active: bool,
    *,
    now: datetime,
    client: str | None,
    language: str,
) -> AdminUserOut:
    """Enable or disable an account (audited); disabling ends all its sessions at once."""
    user = await _user(session, user_id)
    if user.id == admin.id and not active:
        raise Conflict("You cannot disable your own account.", code="cannot_disable_self")
    user.is_active = active
    if not active:
        await _end_sessions(session, user, now)
    await record(
        session,
        patient_id=None,
        actor_id=admin.id,
        action="user.enable" if active else "user.disable",
        outcome="ok",
        reason=f"user {user.id}",
        at=now,
        client=client,
    )
    await session.flush()
    return (await _outs(session, [user], language))[0]


async def _issue_link(
    session: AsyncSession, admin: User, user: User, *, now: datetime
) -> tuple[str, datetime]:
    """A fresh one-time token for the user; earlier unused ones stop working."""
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + RESET_TTL
    session.add(
        PasswordReset(
            token_hash=token_hash(token),
            user_id=user.id,
            created_by=admin.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


async def issue_reset(
    session: AsyncSession,
    admin: User,
    user_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
    language: str,
    sending: Sending,
) -> ResetLinkOut:
    """A one-time password-reset link for an account, sent to its holder (audited, without
    the token)."""
    user = await _user(session, user_id)
    return await _link_for(
        session, admin, user, None, "user.password_reset_issued", now, client, language, sending
    )


async def reset_password(
    session: AsyncSession,
    passwords: Passwords,
    data: PasswordResetIn,
    *,
    now: datetime,
    client: str | None,
) -> PasswordResetOut:
    """Set a new password with a one-time link: once, before it expires; every session of
    the account ends."""
    reset = await session.scalar(
        select(PasswordReset)
        .where(PasswordReset.token_hash == token_hash(data.token))
        .with_for_update()
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise ResetLinkInvalid()
    user = await session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise ResetLinkInvalid()
    claimed = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.token_hash == reset.token_hash, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ResetLinkInvalid()
    user.password_hash = await passwords.hash(data.password)
    await _end_sessions(session, user, now)
    await record(
        session,
        patient_id=None,
        actor_id=user.id,
        action="user.password_reset",
        outcome="ok",
        reason=f"user {user.id}",
        at=now,
        client=client,
    )
    await session.flush()
    return PasswordResetOut(ok=True, username=user.username)


async def find_patients(session: AsyncSession, q: PatientQuery) -> list[PatientPick]:
    """Patients by part of the name, or by IIN (its start), for picking one."""
    text = q.q.strip()
    if text.isdigit():
        condition = Patient.iin.like(f"{text}%")
    else:
        condition = _folded(session, Patient.full_name).like(  # type: ignore[attr-defined]
            f"%{_escaped(text)}%", escape="\\"
        )
    rows = list(
        await session.scalars(
            select(Patient).where(condition).order_by(Patient.full_name, Patient.id).limit(q.limit)
        )
    )
    linked = set(
        await session.scalars(
            select(User.patient_id).where(User.patient_id.in_([p.id for p in rows]))
        )
    )
    return [
        PatientPick(
            id=p.id,
            full_name=p.full_name,
            iin=p.iin,
            birth_date=p.birth_date,
            has_account=p.id in linked,
        )
        for p in rows
    ]


async def patient_account(
    session: AsyncSession,
    admin: User,
    patient_id: uuid.UUID,
    data: PatientAccountIn,
    *,
    now: datetime,
    client: str | None,
    language: str,
    sending: Sending,
) -> ResetLinkOut:
    """An account for a patient (by an administrator, or by a GP for a patient of theirs),
    named from the record and linked to it; the patient sets their own password through the
    one-time link sent to them (by SMS to the record's
    phone, or to the e-mail given here)."""
    # An administrator: any patient; a GP: the patients they may see (else 404).
    patient = await get_patient(session, admin, patient_id)
    # An account made for a call (no password, accounts/guests.py) is taken over: named,
    # and sent the link to choose a password.
    existing = await session.scalar(select(User).where(User.patient_id == patient.id))
    if existing is not None and not is_call_account(existing):
        raise Conflict("That patient already has an account.", code="patient_has_account")
    if await session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(
            "That username is taken.",
            code="username_taken",
            fields={"username": "taken"},
            field_codes={"username": "username_taken"},
        )
    if existing is not None:
        user = existing
        user.username = data.username
        user.email = data.email
    else:
        # Nobody knows its password: the patient chooses theirs through the link.
        user = patient_user(patient, data.username, now, email=data.email)
        session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("That username is taken.", code="username_taken") from None
    return await _link_for(
        session, admin, user, patient.id, "user.patient_account", now, client, language, sending
    )


async def _link_for(
    session: AsyncSession,
    admin: User,
    user: User,
    patient_id: uuid.UUID | None,
    action: str,
    now: datetime,
    client: str | None,
    language: str,
    sending: Sending,
) -> ResetLinkOut:
    """Issue a one-time link for ``user``, send it by the person's channel and audit it (the
    record never holds the token). The link is answered only when no channel that leaves the
    service took it (development, or nobody reachable)."""
    token, expires_at = await _issue_link(session, admin, user, now=now)
    path = RESET_PATH + token
    kind = "invitation" if action == "user.patient_account" else "password_reset"
    sent = await link_sent(
        session, user, kind=kind, link=sending.base_url + path, reach=sending.reach, now=now
    )
    shown = sent is None or not sent.delivered
    await record(
        session,
        patient_id=patient_id,
        actor_id=admin.id,
        action=action,
        outcome="ok",
        reason=f"user {user.id}",
        at=now,
        client=client,
    )
    await session.flush()
    return ResetLinkOut(
        user=(await _outs(session, [user], language))[0],
        sent_by=sent.channel if sent else None,
        sent_to=sent.to if sent else None,
        link=path if shown else None,
        token=token if shown else None,
        expires_at=expires_at,
    )
