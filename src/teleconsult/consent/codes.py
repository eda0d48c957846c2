"""One-time consent codes: made, kept only as an HMAC, sent through the notifier, and limited
in the wrong tries they allow (per request over every resend, and per patient per day)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Conflict
from ..notify.service import patient_contact
from .models import ConsentRequest
from .notifier import CodeToSend, Notifier

CODE_TTL = timedelta(minutes=10)
# Wrong codes a request allows over all the codes sent for it (a new code does not give more
# tries), then it is locked; and wrong codes a patient's requests allow in a day together.
CODE_ATTEMPTS = 5
PATIENT_CODE_ATTEMPTS = 10
PATIENT_CODE_WINDOW = timedelta(hours=24)


def code_hash(secret_key: str, request_id: uuid.UUID, code: str) -> str:
    message = f"consent-code:{request_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


async def issue_code(
    session: AsyncSession,
    request: ConsentRequest,
    notifier: Notifier,
    *,
    secret_key: str,
    now: datetime,
) -> None:
    if not notifier.delivers:
        raise Conflict(
            "No channel delivers one-time codes here; the patient confirms from their account.",
            code="consent_code_no_channel",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    request.code_hash = code_hash(secret_key, request.id, code)
    request.code_expires_at = now + CODE_TTL
    # Only a committed request gets a code: the notifier sends it after the commit.
    contact = await patient_contact(session, request.patient_id)
    await notifier.send_consent_code(
        session,
        CodeToSend(request.id, request.patient_id, contact.phone, code, contact.language, now),
    )


async def patient_code_failures(session: AsyncSession, patient_id: uuid.UUID, now: datetime) -> int:
    """Wrong codes tried on the patient's requests within the window, over all requests."""
    total = await session.scalar(
        select(func.coalesce(func.sum(ConsentRequest.attempts), 0)).where(
            ConsentRequest.patient_id == patient_id,
            ConsentRequest.last_attempt_at > now - PATIENT_CODE_WINDOW,
        )
    )
    return int(total or 0)
