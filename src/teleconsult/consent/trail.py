"""The consent package's audit records: one shape for every grant, request, emergency
session and decision, written to the patient's audit chain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..audit.service import record


async def audit_event(
    session: AsyncSession,
    patient_id: uuid.UUID | None,
    action: str,
    reason: str,
    *,
    actor_id: uuid.UUID,
    at: datetime,
    client: str | None,
    outcome: str = "ok",
    durable: bool = False,
) -> None:
    """Record what happened to the patient's consent, by whom and when (see
    :func:`audit.service.record` for ``durable``); without a patient, in the system chain."""
    await record(
        session,
        patient_id=patient_id,
        actor_id=actor_id,
        action=action,
        outcome=outcome,
        reason=reason,
        at=at,
        client=client,
        durable=durable,
    )
