"""Consent requests: a clinician asks the patient's consent (or booking asks it for the
specialist), and the patient confirms it from their account, or a clinician confirms it at
the point of care with a one-time code sent to the patient; confirmed, a request becomes a
grant. pending → confirmed, declined or withdrawn; never reopened."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts import directory
from ..accounts.models import User
from ..codes import Role
from ..consultations.models import Consultation
from ..errors import Conflict, Forbidden, NotFound, field_error
from ..notify import service as notify
from ..patients.service import get_patient
from .codes import (
    issue_code,
)
from .grants import (
    check_expiry,
    clinician,
    is_active,
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
    return (await named_requests(session, [request]))[0]


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


async def request_for(
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
    return await named_requests(session, list(rows))


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
    return await named_requests(session, requests, active)


async def close(
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
    request = await request_for(session, user, request_id, lock=True)
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
    await close(
        session,
        request,
        status,
        actor_id=user.id,
        reason=f"{status.value} by {who}",
        now=now,
        client=client,
    )
    return (await named_requests(session, [request]))[0]


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
        await close(
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


async def named_requests(
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
