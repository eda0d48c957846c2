"""Accounts: login with throttling, logout, users and their roles."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit.service import record_login
from ..codes import Role
from ..config import Settings
from ..db.uow import in_own_transaction
from ..errors import Conflict, NotFound, TooManyRequests, Unauthorized, field_error
from ..facilities.models import Facility
from ..patients.models import Patient
from . import directory, sessions, throttle
from .auth import new_token, token_hash
from .models import AuthToken, LoginFailure, SpecialistSpecialty, User
from .passwords import Passwords
from .schemas import LoginOut, MeUpdate, PeopleQuery, PersonOut, UserCreate, UserOut


async def specialties_of(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        select(SpecialistSpecialty.specialty)
        .where(SpecialistSpecialty.user_id == user_id)
        .order_by(SpecialistSpecialty.specialty)
    )
    return list(rows)


async def user_out(session: AsyncSession, user: User) -> UserOut:
    out = UserOut.model_validate(user)
    if user.role == Role.specialist:
        out.specialties = await specialties_of(session, user.id)
    return out


async def update_me(session: AsyncSession, me: User, data: MeUpdate) -> UserOut:
    """Change the caller's own preferences (today: the language the pages speak)."""
    me.language = data.language.value
    await session.flush()
    return await user_out(session, me)


def _limits(settings: Settings) -> throttle.Limits:
    return throttle.Limits(
        window=timedelta(minutes=settings.login_window_minutes),
        free_tries_per_pair=settings.login_free_tries,
        max_backoff=timedelta(seconds=settings.login_max_backoff_seconds),
        per_address=settings.login_max_failures_per_address,
        per_account=settings.login_max_failures_per_account,
    )


async def _recent(
    session: AsyncSession, username: str, client: str, since: datetime
) -> throttle.Recent:
    recent = LoginFailure.at > since
    pair = (
        await session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(
                LoginFailure.username == username, LoginFailure.client == client, recent
            )
        )
    ).one()
    address = (
        await session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.client == client, recent
            )
        )
    ).one()
    account = (
        await session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.username == username, recent
            )
        )
    ).one()
    return throttle.Recent(
        pair=pair[0],
        pair_last=pair[1],
        address=address[0],
        address_oldest=address[1],
        account=account[0],
        account_oldest=account[1],
    )


async def _serialise(session: AsyncSession, *keys: str) -> None:
    """Hold the attempts of these accounts and addresses in line until this transaction ends.

    SQLite's write transactions are serial already (``BEGIN IMMEDIATE``); on PostgreSQL a
    transaction-scoped advisory lock per key does it, taken in one order so two attempts
    never wait for each other.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )


async def login(
    session: AsyncSession,
    passwords: Passwords,
    settings: Settings,
    *,
    username: str,
    password: str,
    now: datetime,
    client: str | None,
) -> LoginOut:
    """Check the password and open a session, unless the attempt must wait (429).

    The attempt is recorded as a failure in a transaction of its own before the password is
    checked, serialised with the other attempts on the same account and address, so that
    concurrent guesses are counted exactly and a crash counts against the guesser; a
    successful sign-in then clears its (account, address) pair's failures.
    """
    limits = _limits(settings)
    address = client or ""

    async def reserve(own: AsyncSession) -> None:
        await _serialise(own, f"login-account:{username}", f"login-address:{address}")
        wait = throttle.retry_after(
            await _recent(own, username, address, now - limits.window), limits, now
        )
        if wait is not None:
            raise TooManyRequests(
                "Too many failed sign-ins; try again later.",
                retry_after=wait,
                code="sign_in_throttled",
            )
        own.add(LoginFailure(username=username, at=now, client=address))

    await in_own_transaction(session, reserve)

    user = await session.scalar(select(User).where(User.username == username))
    ok = await passwords.verify(user.password_hash if user else None, password)
    signed_in = ok and user is not None and user.is_active
    await record_login(session, user=user, username=username, ok=signed_in, at=now, client=client)
    if user is None or not signed_in:
        raise Unauthorized("Wrong username or password.", code="wrong_credentials")

    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == username, LoginFailure.client == address
        )
    )
    token = new_token()
    expires_at = now + timedelta(hours=settings.token_ttl_hours)
    session.add(AuthToken(token_hash=token_hash(token), user_id=user.id, expires_at=expires_at))
    return LoginOut(token=token, expires_at=expires_at, user=await user_out(session, user))


async def logout(session: AsyncSession, user: User, token: str, now: datetime) -> None:
    """Revoke the presented token; it is refused from the next request on, and the
    websockets opened under it close (``accounts/sessions.py``)."""
    hashed = token_hash(token)
    await session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == hashed, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    sessions.announce_session_end(session, user.id, hashed)


def _username_taken() -> Conflict:
    return Conflict(
        "That username is taken.",
        fields={"username": "taken"},
        field_codes={"username": "username_taken"},
        code="username_taken",
    )


async def create_user(session: AsyncSession, passwords: Passwords, data: UserCreate) -> User:
    """Create an account; the role decides which links are required."""
    if data.role in (Role.gp, Role.specialist) and data.facility_id is None:
        raise field_error(
            "facility_id", "required for gp and specialist accounts", "facility_required"
        )
    if data.role == Role.specialist and not data.specialties:
        raise field_error(
            "specialties", "a specialist needs at least one specialty", "specialty_required"
        )
    if data.role != Role.specialist and data.specialties:
        raise field_error(
            "specialties", "only specialists have specialties", "specialties_not_allowed"
        )
    if data.role == Role.patient and data.patient_id is None:
        raise field_error("patient_id", "required for patient accounts", "patient_required")
    if data.role != Role.patient and data.patient_id is not None:
        raise field_error(
            "patient_id", "only patient accounts link to a patient", "patient_not_allowed"
        )
    if data.facility_id is not None and await session.get(Facility, data.facility_id) is None:
        raise field_error("facility_id", "no such facility", "unknown_facility")
    if data.patient_id is not None and await session.get(Patient, data.patient_id) is None:
        raise field_error("patient_id", "no such patient", "unknown_patient")
    if await session.scalar(select(User.id).where(User.username == data.username)):
        raise _username_taken()
    if data.patient_id is not None and await session.scalar(
        select(User.id).where(User.patient_id == data.patient_id)
    ):
        raise Conflict(
            "That patient already has an account.",
            fields={"patient_id": "taken"},
            field_codes={"patient_id": "patient_has_account"},
            code="patient_has_account",
        )

    user = User(
        username=data.username,
        password_hash=await passwords.hash(data.password),
        full_name=data.full_name,
        role=data.role.value,
        facility_id=data.facility_id,
        patient_id=data.patient_id,
        on_call=data.on_call,
        is_active=True,
        email=data.email,
        phone=data.phone,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise _username_taken() from None
    for specialty in data.specialties or []:
        session.add(SpecialistSpecialty(user_id=user.id, specialty=specialty))
    await session.flush()
    return user


async def add_user(session: AsyncSession, passwords: Passwords, data: UserCreate) -> UserOut:
    """Create an account (:func:`create_user`), answered as administrators see it."""
    return await user_out(session, await create_user(session, passwords, data))


async def set_active(session: AsyncSession, user_id: uuid.UUID, active: bool) -> UserOut:
    """Enable or disable an account; a disabled user's tokens stop working at once and their
    open websockets close."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(code="user_not_found")
    user.is_active = active
    if not active:
        sessions.announce_disabled(session, user.id)
    return await user_out(session, user)


async def find_people(session: AsyncSession, me: User, q: PeopleQuery) -> list[PersonOut]:
    """Clinicians found by name (``q.q``), or the users named by id (``q.ids``): staff,
    system accounts, and the caller themself; patient accounts are not in the directory."""
    if q.q is not None:
        return await directory.find_clinicians(session, q.q)
    found = await directory.people(session, q.parsed(), patient_id=me.patient_id)
    shown = [
        p
        for p in found.values()
        if p.role in directory.STAFF or p.role in directory.SYSTEMS or p.id == me.id
    ]
    return sorted(shown, key=lambda p: str(p.id))
