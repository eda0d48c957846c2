"""The patient's access log as it is read: by the patient themself, or by an administrator,
whose look is itself audited. Emergency sessions that ran out are closed first
(:func:`breakglass.close_expired_break_glass`), so that their end shows in the log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit.service import access_log
from ..codes import Role
from ..errors import Forbidden, NotFound
from .breakglass import close_expired_break_glass
from .trail import audit_event


async def read_access_log(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    *,
    cursor_seq: int | None,
    limit: int,
    now: datetime,
    client: str | None,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    """The patient reads their own access log; an administrator's look is itself audited."""
    if user.role == Role.patient and user.patient_id != patient_id:
        raise NotFound()
    if user.role not in (Role.patient, Role.admin):
        raise Forbidden("Only the patient and administrators read the access log.")
    await close_expired_break_glass(session, patient_id, now=now, client=client)
    if user.role == Role.admin:
        await audit_event(
            session,
            patient_id,
            "access_log.read",
            "administrator review",
            actor_id=user.id,
            at=now,
            client=client,
            outcome="permit",
            durable=True,
        )
    return await access_log(
        session, patient_id, cursor_seq=cursor_seq, limit=limit, newest_first=newest_first
    )
