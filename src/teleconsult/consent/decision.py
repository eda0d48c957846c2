"""The decision point: every access to a patient's passport passes :func:`authorize` (or
:func:`authorize_then_record`), which loads the patient's consent state, decides with
:func:`policy.decide` and audits the decision, permit or deny."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    CompoundSelect,
    Table,
    Uuid,
    bindparam,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..db.base import UTCDateTime
from ..errors import Forbidden
from ..patients.models import Patient
from .breakglass import close_expired_break_glass
from .models import BreakGlassSession, ConsentGrant
from .policy import Access, Actor, BreakGlass, Decision, Grant, GrantAccess, decide
from .trail import audit_event


class ConsentDenied(Forbidden):
    """A denial says nothing about the patient: no data, no counts, no reason."""

    default_detail = "You have no consent to access this patient's health passport."
    default_code = "consent_denied"


def actor_of(user: User) -> Actor:
    """The parts of a user the consent decision looks at."""
    return Actor(user.id, user.role, user.facility_id, user.patient_id)


def _consent_state() -> CompoundSelect:
    """The patient's grants to a clinician (or the clinician's facility) that are in force,
    and the patient's open break-glass sessions: one statement, as every read runs it."""
    g = cast(Table, ConsentGrant.__table__)
    bg = cast(Table, BreakGlassSession.__table__)
    patient, now = bindparam("patient_id", type_=Uuid), bindparam("now", type_=UTCDateTime)
    grants = select(
        literal("grant").label("source"),
        g.c.id,
        g.c.grantee_user_id.label("user_id"),
        g.c.grantee_facility_id.label("facility_id"),
        g.c.access,
        g.c.categories,
        type_coerce(null(), UTCDateTime).label("started_at"),
        g.c.expires_at.label("ends_at"),
    ).where(
        g.c.patient_id == patient,
        g.c.revoked_at.is_(None),
        g.c.expires_at > now,
        # A NULL grantee (a user who is no clinician, or has no facility) matches nothing.
        or_(
            g.c.grantee_user_id == bindparam("user_id", type_=Uuid),
            g.c.grantee_facility_id == bindparam("facility_id", type_=Uuid),
        ),
    )
    emergencies = select(
        literal("break_glass"),
        bg.c.id,
        bg.c.actor_id,
        null(),
        null(),
        null(),
        bg.c.started_at,
        bg.c.ends_at,
    ).where(bg.c.patient_id == patient, bg.c.ended_at.is_(None))
    return union_all(grants, emergencies)


_CONSENT_STATE = _consent_state()


async def hold_consent(session: AsyncSession, patient_id: uuid.UUID, *, narrowing: bool) -> None:
    """Serialise a write's decision with the revocations of the same patient's consent.

    A write decides (shared) and a revocation narrows (exclusive) under one lock per patient,
    held to the end of the transaction: a write permitted before a revocation commits before
    the revocation is answered, and one that waited for it sees the grant revoked. SQLite
    needs no lock: its writing transactions run one at a time (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = "pg_advisory_xact_lock" if narrowing else "pg_advisory_xact_lock_shared"
    await session.execute(
        text(f"SELECT {lock}(hashtextextended(:key, 0))"), {"key": f"consent:{patient_id}"}
    )


async def authorize(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    access: Access,
    needed: frozenset[str] | None,
    action: str,
    now: datetime,
    client: str | None,
) -> Decision:
    """Decide, audit the decision (kept even if the request fails), and raise on a denial.

    Grants and break-glass sessions are loaded fresh on every call, so an expiry or a
    revocation takes effect on the very next request.
    """
    permit = await authorize_then_record(
        session,
        user,
        patient_id,
        access=access,
        needed=needed,
        action=action,
        now=now,
        client=client,
    )
    await permit.record()
    return permit.decision


@dataclass(frozen=True)
class Permit:
    """A permit whose audit entry is still to be written: ``record`` writes it (durably, as
    :func:`authorize` does) and must run before anything read under the permit is answered
    (``db.uow.commit_while(..., first=permit.record)``)."""

    decision: Decision
    record: Callable[[], Awaitable[None]]


async def authorize_then_record(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    access: Access,
    needed: frozenset[str] | None,
    action: str,
    now: datetime,
    client: str | None,
) -> Permit:
    """:func:`authorize`, with a permit's audit entry left for the caller to write beside
    its fetch (a passport read); a denial is audited and raised here, before anything is read.

    Every passport read passes here, so it loads plain rows (no ORM objects) in one statement.
    """
    if access == Access.write:
        await hold_consent(session, patient_id, narrowing=False)
    clinician = user.role in (Role.gp, Role.specialist)
    connection = await session.connection()
    rows = (
        await connection.execute(
            _CONSENT_STATE,
            {
                "patient_id": patient_id,
                "now": now,
                "user_id": user.id if clinician else None,
                "facility_id": user.facility_id if clinician else None,
            },
        )
    ).all()
    if any(r.source == "break_glass" and r.ends_at <= now for r in rows):
        # Emergency sessions that ran out are closed (and audited) before deciding.
        await close_expired_break_glass(session, patient_id, now=now, client=client)
    grants = [
        Grant(
            id=r.id,
            grantee_user_id=r.user_id,
            grantee_facility_id=r.facility_id,
            access=GrantAccess(r.access),
            categories=frozenset(r.categories) if r.categories is not None else None,
            expires_at=r.ends_at,
            revoked_at=None,
        )
        for r in rows
        if r.source == "grant"
    ]
    emergencies = [
        BreakGlass(r.id, r.user_id, r.started_at, r.ends_at, None)
        for r in rows
        if r.source == "break_glass" and r.user_id == user.id and r.ends_at > now
    ]
    decision = decide(actor_of(user), patient_id, access, needed, grants, emergencies, now)

    async def record(about: uuid.UUID | None = patient_id, reason: str = decision.reason) -> None:
        await audit_event(
            session,
            about,
            action,
            reason,
            actor_id=user.id,
            at=now,
            client=client,
            outcome=decision.outcome,
            durable=True,
        )

    if not decision.permit:
        if await session.scalar(select(Patient.id).where(Patient.id == patient_id)) is None:
            # No chain is started for an id that names nobody: the system chain keeps it.
            await record(None, "denied: no such patient")
        else:
            await record()
        raise ConsentDenied()
    return Permit(decision, record)
