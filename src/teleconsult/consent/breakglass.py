"""Break-glass: emergency read access a clinician opens with a written reason, for at most
four hours, audited when it starts and when it ends.

This module alone ends sessions that ran out (:func:`close_expired_break_glass`); whoever
shows or decides on emergency access calls it first: the decision point, the access log and
the administrators' review.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts import directory
from ..accounts.models import User
from ..db.paging import keyset_page
from ..db.uow import on_rollback
from ..errors import NotFound
from ..patients.models import Patient
from .models import BreakGlassSession
from .policy import BREAK_GLASS_MAX
from .schemas import BreakGlassIn, BreakGlassOut
from .trail import audit_event


async def open_break_glass(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: BreakGlassIn,
    *,
    now: datetime,
    client: str | None,
) -> BreakGlassOut:
    """Open emergency read access for at most 4 hours; the start is audited for the patient."""
    if await session.get(Patient, patient_id) is None:
        # Emergency access to a patient that does not exist has nothing to open.
        raise NotFound(code="patient_not_found")
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
    await audit_event(
        session,
        patient_id,
        "break_glass.start",
        f"session {opened.id} until {opened.ends_at.isoformat()}: {data.reason}",
        actor_id=user.id,
        at=now,
        client=client,
    )
    return (await _named_sessions(session, [opened]))[0]


async def end_break_glass(
    session: AsyncSession,
    user: User,
    session_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
) -> BreakGlassOut:
    """End one's own emergency access before it runs out."""
    opened = await session.scalar(
        select(BreakGlassSession).where(BreakGlassSession.id == session_id).with_for_update()
    )
    if opened is None or opened.actor_id != user.id:
        raise NotFound(code="break_glass_not_found")
    if opened.ended_at is None:
        opened.ended_at = min(now, opened.ends_at)
        await session.flush()
        await _audit_end(session, opened, "ended by the clinician", client)
    return (await _named_sessions(session, [opened]))[0]


async def _audit_end(
    session: AsyncSession, opened: BreakGlassSession, how: str, client: str | None
) -> None:
    assert opened.ended_at is not None
    await audit_event(
        session,
        opened.patient_id,
        "break_glass.end",
        f"session {opened.id} {how}",
        actor_id=opened.actor_id,
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
) -> tuple[list[BreakGlassOut], str | None]:
    """Every emergency session for administrators to review, oldest first."""
    await close_expired_break_glass(session, None, now=now, client=client)
    order = [BreakGlassSession.started_at, BreakGlassSession.id]
    rows, nxt = await keyset_page(session, select(BreakGlassSession), order, cursor, limit)
    items = await _named_sessions(session, rows)
    # The reviewer reads whose passport it was by name, never by a record id.
    wanted = {s.patient_id for s in rows}
    names: dict[uuid.UUID, str] = {}
    if wanted:
        found = await session.execute(
            select(Patient.id, Patient.full_name).where(Patient.id.in_(wanted))
        )
        names = {patient_id: name for patient_id, name in found}
    for item in items:
        item.patient_name = names.get(item.patient_id)
    return items, nxt


async def _named_sessions(
    session: AsyncSession, sessions: Sequence[BreakGlassSession]
) -> list[BreakGlassOut]:
    """The sessions as shown, each with who opened it by name (``accounts.directory``)."""
    named = await directory.people(session, (s.actor_id for s in sessions))
    out = []
    for opened in sessions:
        item = BreakGlassOut.model_validate(opened)
        item.actor = named.get(opened.actor_id)
        out.append(item)
    return out
