"""Consent grants and requests, break-glass, and the one decision point that enforces them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit import service as audit
from ..codes import Role
from ..consultations.models import Consultation
from ..db.base import UTCDateTime
from ..db.paging import keyset_page
from ..db.uow import after_commit, on_rollback
from ..errors import Conflict, DomainError, Forbidden, NotFound, field_error
from ..facilities.models import Facility
from ..patients.models import Patient
from ..patients.service import get_patient
from .models import BreakGlassSession, ConsentGrant, ConsentRequest
from .notifier import Notifier
from .policy import (
    BREAK_GLASS_MAX,
    GRANT_MAX,
    Access,
    Actor,
    BreakGlass,
    Category,
    Decision,
    Grant,
    GrantAccess,
    decide,
    grant_is_active,
)
from .schemas import BreakGlassIn, ConsentRequestCreate, GrantCreate, RequestStatus

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
# A specialist booked for a consultation may work on the passport until this long after it.
AFTER_CONSULTATION = timedelta(hours=72)


class ConsentDenied(Forbidden):
    """A denial says nothing about the patient: no data, no counts, no reason."""

    default_detail = "You have no consent to access this patient's health passport."


# --- the decision point ----------------------------------------------------------------------


def actor_of(user: User) -> Actor:
    """The parts of a user the consent decision looks at."""
    return Actor(user.id, user.role, user.facility_id, user.patient_id)


def _grant_view(row: ConsentGrant) -> Grant:
    return Grant(
        id=row.id,
        grantee_user_id=row.grantee_user_id,
        grantee_facility_id=row.grantee_facility_id,
        access=GrantAccess(row.access),
        categories=frozenset(row.categories) if row.categories is not None else None,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


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

    async def record() -> None:
        await audit.record(
            session,
            patient_id=patient_id,
            actor_id=user.id,
            action=action,
            outcome=decision.outcome,
            reason=decision.reason,
            at=now,
            client=client,
            durable=True,
        )

    if not decision.permit:
        await record()
        raise ConsentDenied()
    return Permit(decision, record)


# --- grants ----------------------------------------------------------------------------------


def _own_patient(user: User, patient_id: uuid.UUID) -> None:
    if user.role != Role.patient or user.patient_id != patient_id:
        raise Forbidden("Only the patient manages consent to their passport.")


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise field_error("expires_at", "must be in the future")
    if expires_at > now + GRANT_MAX:
        raise field_error("expires_at", "must be at most one year ahead")


def _categories(values: Iterable[Category] | None) -> list[str] | None:
    return sorted({c.value for c in values}) if values is not None else None


async def _clinician(session: AsyncSession, user_id: uuid.UUID, field: str) -> User:
    grantee = await session.get(User, user_id)
    if grantee is None or not grantee.is_active or grantee.role not in (Role.gp, Role.specialist):
        raise field_error(field, "no such clinician")
    return grantee


async def grant_consent(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: GrantCreate,
    *,
    now: datetime,
    client: str | None,
) -> ConsentGrant:
    """The patient grants a user or a facility access to their passport until a date."""
    _own_patient(user, patient_id)
    if (data.grantee_user_id is None) == (data.grantee_facility_id is None):
        raise field_error("grantee_user_id", "give grantee_user_id or grantee_facility_id")
    if data.grantee_user_id is not None:
        await _clinician(session, data.grantee_user_id, "grantee_user_id")
    elif await session.get(Facility, data.grantee_facility_id) is None:
        raise field_error("grantee_facility_id", "no such facility")
    _check_expiry(data.expires_at, now)
    grant = ConsentGrant(
        id=uuid.uuid4(),
        patient_id=patient_id,
        grantee_user_id=data.grantee_user_id,
        grantee_facility_id=data.grantee_facility_id,
        access=data.access.value,
        categories=_categories(data.categories),
        expires_at=data.expires_at,
        created_at=now,
        granted_by=user.id,
        source="portal",
    )
    session.add(grant)
    await session.flush()
    await _audit_grant(session, grant, user.id, now, client)
    return grant


async def _audit_grant(
    session: AsyncSession,
    grant: ConsentGrant,
    actor_id: uuid.UUID,
    now: datetime,
    client: str | None,
) -> None:
    grantee = (
        f"user {grant.grantee_user_id}"
        if grant.grantee_user_id is not None
        else f"facility {grant.grantee_facility_id}"
    )
    categories = ", ".join(grant.categories) if grant.categories else "all categories"
    await audit.record(
        session,
        patient_id=grant.patient_id,
        actor_id=actor_id,
        action="consent.grant",
        outcome="ok",
        reason=(
            f"grant {grant.id}: {grant.access} to {grantee} ({categories})"
            f" until {grant.expires_at.isoformat()} via {grant.source}"
        ),
        at=now,
        client=client,
    )


def is_active(grant: ConsentGrant, now: datetime) -> bool:
    """Whether a stored grant would permit anything at ``now`` (not revoked, not expired)."""
    return grant_is_active(_grant_view(grant), now)


async def list_grants(
    session: AsyncSession, user: User, patient_id: uuid.UUID
) -> list[ConsentGrant]:
    """Every grant the patient ever gave, newest first."""
    _own_patient(user, patient_id)
    rows = await session.scalars(
        select(ConsentGrant)
        .where(ConsentGrant.patient_id == patient_id)
        .order_by(ConsentGrant.created_at.desc(), ConsentGrant.id)
    )
    return list(rows)


async def revoke_grant(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    grant_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
) -> ConsentGrant:
    """Revoke a grant; the grantee is refused from the very next request."""
    _own_patient(user, patient_id)
    grant = await session.scalar(
        select(ConsentGrant)
        .where(ConsentGrant.id == grant_id, ConsentGrant.patient_id == patient_id)
        .with_for_update()
    )
    if grant is None:
        raise NotFound()
    if grant.revoked_at is None:
        grant.revoked_at = now
        grant.revoked_by = user.id
        await session.flush()
        await audit.record(
            session,
            patient_id=patient_id,
            actor_id=user.id,
            action="consent.revoke",
            outcome="ok",
            reason=f"grant {grant.id} revoked",
            at=now,
            client=client,
        )
    return grant


# --- requests confirmed by the patient or a one-time code ------------------------------------


def _code_hash(secret_key: str, request_id: uuid.UUID, code: str) -> str:
    message = f"consent-code:{request_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


async def _issue_code(
    session: AsyncSession,
    request: ConsentRequest,
    notifier: Notifier,
    *,
    secret_key: str,
    now: datetime,
) -> None:
    code = f"{secrets.randbelow(1_000_000):06d}"
    request.code_hash = _code_hash(secret_key, request.id, code)
    request.code_expires_at = now + CODE_TTL
    request.attempts = 0
    phone = await session.scalar(select(Patient.phone).where(Patient.id == request.patient_id))
    request_id, patient_id = request.id, request.patient_id

    async def deliver() -> None:
        await notifier.send_consent_code(
            request_id=request_id, patient_id=patient_id, phone=phone, code=code
        )

    # Only a committed request gets a code.
    after_commit(session, deliver)


async def request_consent(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: ConsentRequestCreate,
    notifier: Notifier,
    *,
    secret_key: str,
    now: datetime,
    client: str | None,
) -> ConsentRequest:
    """At the point of care: ask the patient's consent; a one-time code goes to the patient."""
    await get_patient(session, user, patient_id)
    await _clinician(session, data.grantee_user_id, "grantee_user_id")
    _check_expiry(data.expires_at, now)
    if data.consultation_id is not None:
        consultation = await _participated(session, user, data.consultation_id)
        if consultation is None or consultation.patient_id != patient_id:
            raise field_error("consultation_id", "no such consultation of yours for this patient")
    request = ConsentRequest(
        id=uuid.uuid4(),
        patient_id=patient_id,
        grantee_user_id=data.grantee_user_id,
        access=data.access.value,
        categories=_categories(data.categories),
        expires_at=data.expires_at,
        requested_by=user.id,
        consultation_id=data.consultation_id,
        created_at=now,
        status=RequestStatus.pending,
        attempts=0,
    )
    session.add(request)
    await _issue_code(session, request, notifier, secret_key=secret_key, now=now)
    await session.flush()
    await _audit_request(session, request, user.id, now, client)
    return request


async def _audit_request(
    session: AsyncSession,
    request: ConsentRequest,
    actor_id: uuid.UUID,
    now: datetime,
    client: str | None,
) -> None:
    await audit.record(
        session,
        patient_id=request.patient_id,
        actor_id=actor_id,
        action="consent.request",
        outcome="ok",
        reason=(
            f"request {request.id}: {request.access} for user {request.grantee_user_id}"
            f" until {request.expires_at.isoformat()}"
        ),
        at=now,
        client=client,
    )


async def request_specialist_consent(session: AsyncSession, consultation: Consultation) -> None:
    """Booking asks the patient's consent for the specialist: read_write until 72 h after.

    The patient confirms from their account, or at the point of care with a one-time code
    the booking GP sends (``POST /consent-requests/{id}/send-code``).
    """
    if consultation.specialist_id is None:
        return
    now = consultation.created_at
    until = (consultation.ends_at or now) + AFTER_CONSULTATION
    request = ConsentRequest(
        id=uuid.uuid4(),
        patient_id=consultation.patient_id,
        grantee_user_id=consultation.specialist_id,
        access=GrantAccess.read_write.value,
        categories=None,
        expires_at=until,
        requested_by=consultation.requester_id,
        consultation_id=consultation.id,
        created_at=now,
        status=RequestStatus.pending,
        attempts=0,
    )
    session.add(request)
    await session.flush()
    await _audit_request(session, request, consultation.requester_id, now, None)


async def _request_for(
    session: AsyncSession, user: User, request_id: uuid.UUID, *, lock: bool = False
) -> ConsentRequest:
    stmt = select(ConsentRequest).where(ConsentRequest.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    request = await session.scalar(stmt)
    if request is None:
        raise NotFound()
    involved = user.id in (request.requested_by, request.grantee_user_id) or (
        user.role == Role.patient and user.patient_id == request.patient_id
    )
    if not involved:
        raise NotFound()
    return request


async def send_code(
    session: AsyncSession,
    user: User,
    request_id: uuid.UUID,
    notifier: Notifier,
    *,
    secret_key: str,
    now: datetime,
) -> ConsentRequest:
    """Send (again) a one-time code for a pending request; the previous code stops working."""
    request = await _request_for(session, user, request_id, lock=True)
    if user.role == Role.patient:
        raise Forbidden("The clinician sends the code.")
    if request.status != RequestStatus.pending:
        raise Conflict("This consent request is no longer pending.")
    await _issue_code(session, request, notifier, secret_key=secret_key, now=now)
    await session.flush()
    await audit.record(
        session,
        patient_id=request.patient_id,
        actor_id=user.id,
        action="consent.code_sent",
        outcome="ok",
        reason=f"request {request.id}: a new one-time code was sent",
        at=now,
        client=None,
    )
    return request


async def list_requests(
    session: AsyncSession, user: User, patient_id: uuid.UUID
) -> list[ConsentRequest]:
    """The patient's consent requests, newest first."""
    _own_patient(user, patient_id)
    rows = await session.scalars(
        select(ConsentRequest)
        .where(ConsentRequest.patient_id == patient_id)
        .order_by(ConsentRequest.created_at.desc(), ConsentRequest.id)
    )
    return list(rows)


async def _participated(
    session: AsyncSession, user: User, consultation_id: uuid.UUID
) -> Consultation | None:
    """The consultation when the user takes part in it (requesting GP, specialist, patient)."""
    consultation = await session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    takes_part = user.id in (consultation.requester_id, consultation.specialist_id) or (
        user.role == Role.patient and user.patient_id == consultation.patient_id
    )
    return consultation if takes_part else None


async def list_for_consultation(
    session: AsyncSession, user: User, consultation_id: uuid.UUID, now: datetime
) -> list[tuple[ConsentRequest, bool | None]]:
    """The consent requests made for one consultation, newest first, each with whether its
    grant still permits (None before a grant); for the consultation's participants."""
    if await _participated(session, user, consultation_id) is None:
        raise NotFound()
    requests = list(
        await session.scalars(
            select(ConsentRequest)
            .where(ConsentRequest.consultation_id == consultation_id)
            .order_by(ConsentRequest.created_at.desc(), ConsentRequest.id)
        )
    )
    grant_ids = [r.grant_id for r in requests if r.grant_id is not None]
    grants = {
        g.id: g
        for g in await session.scalars(select(ConsentGrant).where(ConsentGrant.id.in_(grant_ids)))
    }
    return [
        (r, is_active(grants[r.grant_id], now) if r.grant_id in grants else None) for r in requests
    ]


async def _close(
    session: AsyncSession,
    request: ConsentRequest,
    status: RequestStatus,
    *,
    actor_id: uuid.UUID,
    reason: str,
    now: datetime,
    client: str | None,
) -> None:
    request.status = status
    request.code_hash = None
    await session.flush()
    await audit.record(
        session,
        patient_id=request.patient_id,
        actor_id=actor_id,
        action=f"consent.request_{status.value}",
        outcome="ok",
        reason=f"request {request.id}: {reason}",
        at=now,
        client=client,
    )


async def answer_request(
    session: AsyncSession,
    user: User,
    request_id: uuid.UUID,
    status: RequestStatus,
    *,
    now: datetime,
    client: str | None,
) -> ConsentRequest:
    """Close a pending request without a grant: the patient declines it, or a clinician
    involved in it withdraws it (its code stops working at once)."""
    request = await _request_for(session, user, request_id, lock=True)
    by_patient = user.role == Role.patient
    if status == RequestStatus.declined and not by_patient:
        raise Forbidden("Only the patient can decline a consent request.")
    if status == RequestStatus.withdrawn and by_patient:
        raise Forbidden("Decline the request instead.")
    if request.status != RequestStatus.pending:
        raise Conflict("This consent request is no longer pending.")
    who = "the patient" if by_patient else "the clinician"
    await _close(
        session,
        request,
        status,
        actor_id=user.id,
        reason=f"{status.value} by {who}",
        now=now,
        client=client,
    )
    return request


async def withdraw_for_consultation(
    session: AsyncSession, consultation: Consultation, *, actor_id: uuid.UUID, now: datetime
) -> None:
    """A cancelled consultation needs no consent: its pending requests are withdrawn."""
    pending = await session.scalars(
        select(ConsentRequest)
        .where(
            ConsentRequest.consultation_id == consultation.id,
            ConsentRequest.status == RequestStatus.pending.value,
        )
        .order_by(ConsentRequest.created_at, ConsentRequest.id)
        .with_for_update()
    )
    for request in list(pending):
        await _close(
            session,
            request,
            RequestStatus.withdrawn,
            actor_id=actor_id,
            reason="withdrawn: the consultation was cancelled",
            now=now,
            client=None,
        )


@dataclass
class Confirmation:
    request: ConsentRequest
    grant: ConsentGrant | None
    # A wrong code: the spent attempt must be committed, so it is returned, not raised.
    refused: DomainError | None = None


async def confirm(
    session: AsyncSession,
    user: User,
    request_id: uuid.UUID,
    code: str | None,
    *,
    secret_key: str,
    now: datetime,
    client: str | None,
) -> Confirmation:
    """Turn a pending request into a grant: the patient confirms, or a clinician with the code.

    A code lives 10 minutes and allows 5 attempts; the request row is locked while a code is
    checked, so parallel guesses cannot exceed the limit.
    """
    request = await _request_for(session, user, request_id, lock=True)
    if request.status != RequestStatus.pending:
        raise Conflict("This consent request is no longer pending.")
    if request.expires_at <= now:
        raise Conflict("This consent request asked for access that would already have ended.")
    by_patient = user.role == Role.patient and user.patient_id == request.patient_id
    if not by_patient:
        if code is None:
            raise field_error("code", "required")
        if request.code_hash is None or request.code_expires_at is None:
            raise Conflict("No code has been sent for this request; send one first.")
        if request.code_expires_at <= now:
            raise Conflict("The code has expired; send a new one.")
        if request.attempts >= CODE_ATTEMPTS:
            raise Conflict("No attempts are left for this code; send a new one.")
        expected = request.code_hash
        if not hmac.compare_digest(expected, _code_hash(secret_key, request.id, code)):
            request.attempts += 1
            await session.flush()
            left = CODE_ATTEMPTS - request.attempts
            await audit.record(
                session,
                patient_id=request.patient_id,
                actor_id=user.id,
                action="consent.confirm",
                outcome="failure",
                reason=f"request {request.id}: wrong code, {left} attempt(s) left",
                at=now,
                client=client,
            )
            return Confirmation(
                request,
                None,
                field_error("code", f"wrong code; {left} attempt(s) left"),
            )
    grant = ConsentGrant(
        id=uuid.uuid4(),
        patient_id=request.patient_id,
        grantee_user_id=request.grantee_user_id,
        access=request.access,
        categories=request.categories,
        expires_at=request.expires_at,
        created_at=now,
        granted_by=user.id,
        source="portal" if by_patient else "one_time_code",
        request_id=request.id,
    )
    session.add(grant)
    request.status = RequestStatus.confirmed
    request.grant_id = grant.id
    request.code_hash = None
    await session.flush()
    await _audit_grant(session, grant, user.id, now, client)
    return Confirmation(request, grant)


# --- break-glass -----------------------------------------------------------------------------


async def open_break_glass(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: BreakGlassIn,
    *,
    now: datetime,
    client: str | None,
) -> BreakGlassSession:
    """Open emergency read access for at most 4 hours; the start is audited for the patient."""
    if await session.get(Patient, patient_id) is None:
        # Emergency access to a patient that does not exist has nothing to open.
        raise NotFound()
    minutes = min(timedelta(minutes=data.minutes), BREAK_GLASS_MAX)
    opened = BreakGlassSession(
        id=uuid.uuid4(),
        patient_id=patient_id,
        actor_id=user.id,
        reason=data.reason,
        started_at=now,
        ends_at=now + minutes,
    )
    session.add(opened)
    await session.flush()
    await audit.record(
        session,
        patient_id=patient_id,
        actor_id=user.id,
        action="break_glass.start",
        outcome="ok",
        reason=f"session {opened.id} until {opened.ends_at.isoformat()}: {data.reason}",
        at=now,
        client=client,
    )
    return opened


async def end_break_glass(
    session: AsyncSession,
    user: User,
    session_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
) -> BreakGlassSession:
    """End one's own emergency access before it runs out."""
    opened = await session.scalar(
        select(BreakGlassSession).where(BreakGlassSession.id == session_id).with_for_update()
    )
    if opened is None or opened.actor_id != user.id:
        raise NotFound()
    if opened.ended_at is None:
        opened.ended_at = min(now, opened.ends_at)
        await session.flush()
        await _audit_end(session, opened, "ended by the clinician", client)
    return opened


async def _audit_end(
    session: AsyncSession, opened: BreakGlassSession, how: str, client: str | None
) -> None:
    assert opened.ended_at is not None
    await audit.record(
        session,
        patient_id=opened.patient_id,
        actor_id=opened.actor_id,
        action="break_glass.end",
        outcome="ok",
        reason=f"session {opened.id} {how}",
        at=opened.ended_at,
        client=client,
    )


async def close_expired_break_glass(
    session: AsyncSession, patient_id: uuid.UUID | None, *, now: datetime, client: str | None
) -> None:
    """Record the end of emergency sessions that ran out (for one patient, or all)."""
    stmt = select(BreakGlassSession).where(
        BreakGlassSession.ended_at.is_(None), BreakGlassSession.ends_at <= now
    )
    if patient_id is not None:
        stmt = stmt.where(BreakGlassSession.patient_id == patient_id)
    closed = False
    for opened in await session.scalars(stmt.order_by(BreakGlassSession.ends_at)):
        opened.ended_at = opened.ends_at
        await session.flush()
        await _audit_end(session, opened, "expired", client)
        closed = True
    if closed:
        # A denied request rolls back; the end must still be recorded before its denial.
        async def again(fresh: AsyncSession) -> None:
            await close_expired_break_glass(fresh, patient_id, now=now, client=client)

        on_rollback(session, again)


async def break_glass_page(
    session: AsyncSession, *, cursor: str | None, limit: int, now: datetime, client: str | None
) -> tuple[list[BreakGlassSession], str | None]:
    """Every emergency session for administrators to review, oldest first."""
    await close_expired_break_glass(session, None, now=now, client=client)
    order = [BreakGlassSession.started_at, BreakGlassSession.id]
    return await keyset_page(session, select(BreakGlassSession), order, cursor, limit)
