"""A consent request confirmed: by the patient from their account, or by a clinician at the
point of care with the one-time code sent to the patient (attempts counted per request and
per patient across resends; after the limit the request is locked)."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..errors import Conflict, DomainError, Forbidden, TooManyRequests, field_error
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
    named_grants,
)
from .models import ConsentGrant
from .notifier import Notifier
from .requests import close, named_requests, request_for
from .schemas import (
    ConsentRequestOut,
    GrantOut,
    RequestStatus,
)
from .trail import audit_event


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
    request = await request_for(session, user, request_id, lock=True)
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
    return (await named_requests(session, [request]))[0]


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
    request = await request_for(session, user, request_id, lock=True)
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
                await close(
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
