"""Consent requests: a clinician asks the patient's consent (or booking asks it for the
specialist), and the patient confirms it from their account, or a clinician confirms it at
the point of care with a one-time code sent to the patient; confirmed, a request becomes a
grant. pending → confirmed, declined or withdrawn; never reopened."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts import directory
from ..accounts.models import User
from ..codes import Role
from ..consultations.models import Consultation
from ..errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests, field_error
from ..notify import service as notify
from ..patients.service import get_patient
from .codes import (
    CODE_ATTEMPTS,
    PATIENT_CODE_ATTEMPTS,
    PATIENT_CODE_WINDOW,
    code_hash,
    issue_code,
    patient_code_failures,
)
from .grants import (
    audit_grant,
    check_expiry,
    clinician,
    is_active,
    named_grants,
    own_patient,
    stored_categories,
)
from .models import ConsentGrant, ConsentRequest
from .notifier import Notifier
from .policy import GrantAccess
from .schemas import (
    ConsentRequestCreate,
    ConsentRequestOut,
    ConsultationBrief,
    GrantOut,
    RequestStatus,
)
from .trail import audit_event

# A specialist booked for a consultation may work on the passport until this long after it.
AFTER_CONSULTATION = timedelta(hours=72)


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
) -> ConsentRequestOut:
    """At the point of care: ask the patient's consent; a one-time code goes to the patient."""
    await get_patient(session, user, patient_id)
    await clinician(session, data.grantee_user_id, "grantee_user_id")
    check_expiry(data.expires_at, now)
    if data.consultation_id is not None:
        consultation = await _participated(session, user, data.consultation_id)
        if consultation is None or consultation.patient_id != patient_id:
            raise field_error(
                "consultation_id",
                "no such consultation of yours for this patient",
                "no_such_consultation",
            )
    request = ConsentRequest(
        id=uuid.uuid4(),
        patient_id=patient_id,
        grantee_user_id=data.grantee_user_id,
        access=data.access.value,
        categories=stored_categories(data.categories),
        expires_at=data.expires_at,
        requested_by=user.id,
        consultation_id=data.consultation_id,
        created_at=now,
        status=RequestStatus.pending,
        attempts=0,
    )
    session.add(request)
    if notifier.delivers:
        await issue_code(session, request, notifier, secret_key=secret_key, now=now)
    await session.flush()
    await _audit_request(session, request, user.id, now, client)
    return (await _named_requests(session, [request]))[0]


async def _audit_request(
    session: AsyncSession,
    request: ConsentRequest,
    actor_id: uuid.UUID,
    now: datetime,
    client: str | None,
) -> None:
    await audit_event(
        session,
        request.patient_id,
        "consent.request",
        f"request {request.id}: {request.access} for user {request.grantee_user_id}"
        f" until {request.expires_at.isoformat()}",
        actor_id=actor_id,
        at=now,
        client=client,
    )


async def request_specialist_consent(
    session: AsyncSession,
    consultation: Consultation,
    *,
    invited: User | None = None,
    now: datetime | None = None,
    contact: notify.Contact | None = None,
) -> ConsentRequest | None:
    """Booking asks the patient's consent for the specialist: read_write until 72 h after.

    The same request is made for a specialist ``invited`` into the consultation by its
    specialist (asked by the inviting specialist, at ``now``). The patient confirms from
    their account, or at the point of care with a one-time code the booking GP sends
    (``POST /consent-requests/{id}/send-code``). ``contact``: the patient's
    (``notify.patient_contact``), when the caller has it already.
    """
    grantee = invited.id if invited is not None else consultation.specialist_id
    if grantee is None:
        return None
    asked_by = consultation.requester_id
    if invited is not None and consultation.specialist_id is not None:
        asked_by = consultation.specialist_id
    now = now or consultation.created_at
    until = (consultation.ends_at or now) + AFTER_CONSULTATION
    request = ConsentRequest(
        id=uuid.uuid4(),
        patient_id=consultation.patient_id,
        grantee_user_id=grantee,
        access=GrantAccess.read_write.value,
        categories=None,
        expires_at=max(until, now + AFTER_CONSULTATION),
        requested_by=asked_by,
        consultation_id=consultation.id,
        created_at=now,
        status=RequestStatus.pending,
        attempts=0,
    )
    # Written with the transaction's other new rows, in one flush (the audit entry below
    # names it, but holds no key to it).
    session.add(request)
    await _audit_request(session, request, asked_by, now, None)
    await notify.consent_requested(
        session,
        patient_id=consultation.patient_id,
        consultation_id=consultation.id,
        now=now,
        contact=contact,
    )
    return request


async def _request_for(
    session: AsyncSession, user: User, request_id: uuid.UUID, *, lock: bool = False
) -> ConsentRequest:
    stmt = select(ConsentRequest).where(ConsentRequest.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    request = await session.scalar(stmt)
    if request is None:
        raise NotFound(code="consent_request_not_found")
    involved = user.id in (request.requested_by, request.grantee_user_id) or (
        user.role == Role.patient and user.patient_id == request.patient_id
    )
    if not involved:
        raise NotFound(code="consent_request_not_found")
    return request


async def send_code(
    session: AsyncSession,
    user: User,
    request_id: uuid.UUID,
    notifier: Notifier,
    *,
    secret_key: str,
    now: datetime,
) -> ConsentRequestOut:
    """Send (again) a one-time code for a pending request; the previous code stops working."""
    request = await _request_for(session, user, request_id, lock=True)
    if user.role == Role.patient:
        raise Forbidden("The clinician sends the code.", code="consent_code_by_clinician")
    if request.status != RequestStatus.pending:
        raise Conflict(
            "This consent request is no longer pending.", code="consent_request_not_pending"
        )
    await issue_code(session, request, notifier, secret_key=secret_key, now=now)
    await session.flush()
    await audit_event(
        session,
        request.patient_id,
        "consent.code_sent",
        f"request {request.id}: a new one-time code was sent",
        actor_id=user.id,
        at=now,
        client=None,
    )
    return (await _named_requests(session, [request]))[0]


async def list_requests(
    session: AsyncSession, user: User, patient_id: uuid.UUID
) -> list[ConsentRequestOut]:
    """The patient's consent requests, newest first."""
    own_patient(user, patient_id)
    rows = await session.scalars(
        select(ConsentRequest)
        .where(ConsentRequest.patient_id == patient_id)
        .order_by(ConsentRequest.created_at.desc(), ConsentRequest.id)
    )
    return await _named_requests(session, list(rows))


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
) -> list[ConsentRequestOut]:
    """The consent requests made for one consultation, newest first, each with whether its
    grant still permits (None before a grant); for the consultation's participants."""
    if await _participated(session, user, consultation_id) is None:
        raise NotFound(code="consultation_not_found")
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
    active = [
        is_active(grants[r.grant_id], now) if r.grant_id in grants else None for r in requests
    ]
    return await _named_requests(session, requests, active)


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
    await audit_event(
        session,
        request.patient_id,
        f"consent.request_{status.value}",
        f"request {request.id}: {reason}",
        actor_id=actor_id,
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
) -> ConsentRequestOut:
    """Close a pending request without a grant: the patient declines it, or a clinician
    involved in it withdraws it (its code stops working at once)."""
    request = await _request_for(session, user, request_id, lock=True)
    by_patient = user.role == Role.patient
    if status == RequestStatus.declined and not by_patient:
        raise Forbidden(
            "Only the patient can decline a consent request.", code="consent_decline_patient_only"
        )
    if status == RequestStatus.withdrawn and by_patient:
        raise Forbidden("Decline the request instead.", code="consent_withdraw_clinician_only")
    if request.status != RequestStatus.pending:
        raise Conflict(
            "This consent request is no longer pending.", code="consent_request_not_pending"
        )
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
    return (await _named_requests(session, [request]))[0]


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


async def follow_move(session: AsyncSession, consultation: Consultation) -> None:
    """A moved consultation's pending requests last until 72 h after its new end, as asked
    at booking (a confirmed grant keeps the dates the patient agreed to)."""
    until = (consultation.ends_at or consultation.created_at) + AFTER_CONSULTATION
    pending = await session.scalars(
        select(ConsentRequest).where(
            ConsentRequest.consultation_id == consultation.id,
            ConsentRequest.status == RequestStatus.pending.value,
        )
    )
    for request in pending:
        request.expires_at = until


@dataclass
class Confirmation:
    """The grant a confirmation made, or why it was refused: a wrong code's spent attempt
    must be committed, so the refusal is returned (and answered), not raised."""

    grant: GrantOut | None
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
        raise Conflict(
            "This consent request is no longer pending.", code="consent_request_not_pending"
        )
    if request.expires_at <= now:
        raise Conflict(
            "This consent request asked for access that would already have ended.",
            code="consent_request_expired",
        )
    by_patient = user.role == Role.patient and user.patient_id == request.patient_id
    if not by_patient:
        if code is None:
            raise field_error("code", "required", "missing")
        if request.code_hash is None or request.code_expires_at is None:
            raise Conflict(
                "No code has been sent for this request; send one first.",
                code="consent_code_not_sent",
            )
        if request.code_expires_at <= now:
            raise Conflict("The code has expired; send a new one.", code="consent_code_expired")
        if await patient_code_failures(session, request.patient_id, now) >= (PATIENT_CODE_ATTEMPTS):
            too_many = TooManyRequests(
                "Too many wrong codes for this patient today; the patient can confirm from "
                "their account instead.",
                retry_after=int(PATIENT_CODE_WINDOW.total_seconds()),
            )
            too_many.code = "consent_code_attempts_daily"
            raise too_many
        expected = request.code_hash
        if not hmac.compare_digest(expected, code_hash(secret_key, request.id, code)):
            request.attempts += 1
            request.last_attempt_at = now
            await session.flush()
            left = CODE_ATTEMPTS - request.attempts
            await audit_event(
                session,
                request.patient_id,
                "consent.confirm",
                f"request {request.id}: wrong code, {left} attempt(s) left",
                actor_id=user.id,
                at=now,
                client=client,
                outcome="failure",
            )
            if left <= 0:
                await _close(
                    session,
                    request,
                    RequestStatus.locked,
                    actor_id=user.id,
                    reason=f"locked after {CODE_ATTEMPTS} wrong codes",
                    now=now,
                    client=client,
                )
                return Confirmation(
                    None,
                    Conflict(
                        "Too many wrong codes: this request is locked; make a new one.",
                        code="consent_request_locked",
                    ),
                )
            wrong = field_error("code", f"wrong code; {left} attempt(s) left", "wrong_code")
            wrong.field_params = {"code": {"left": left, "count": left}}
            return Confirmation(None, wrong)
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
    await audit_grant(session, grant, user.id, now, client)
    return Confirmation((await named_grants(session, [grant], now))[0])


async def _named_requests(
    session: AsyncSession,
    requests: Sequence[ConsentRequest],
    active: Sequence[bool | None] | None = None,
) -> list[ConsentRequestOut]:
    """The requests as shown, each with who would get access and who asked by name
    (``accounts.directory``), the consultation it was made for, and (``active``) whether
    its grant still permits."""
    named = await directory.people(
        session, [r.grantee_user_id for r in requests] + [r.requested_by for r in requests]
    )
    wanted = {r.consultation_id for r in requests if r.consultation_id is not None}
    consultations = {}
    if wanted:
        consultations = {
            c.id: ConsultationBrief.model_validate(c)
            for c in await session.scalars(select(Consultation).where(Consultation.id.in_(wanted)))
        }
    out = []
    for i, request in enumerate(requests):
        item = ConsentRequestOut.model_validate(request)
        item.grantee = named.get(request.grantee_user_id)
        item.requester = named.get(request.requested_by)
        if request.consultation_id is not None:
            item.consultation = consultations.get(request.consultation_id)
        if active is not None:
            item.grant_active = active[i]
        out.append(item)
    return out
