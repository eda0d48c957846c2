"""Recording audit events and reading a patient's access log."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.directory import people
from ..accounts.models import User
from ..db.uow import on_rollback
from ..ledger.store import append
from ..ledger.tables import AUDIT
from .models import SYSTEM_CHAIN, AuditEntry


def chain_of(patient_id: uuid.UUID | None) -> str:
    """The audit chain an event goes to: the patient's, or the system chain."""
    return str(patient_id) if patient_id is not None else SYSTEM_CHAIN


async def record(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    action: str,
    outcome: str,
    reason: str,
    at: datetime,
    client: str | None,
    durable: bool = False,
) -> None:
    """Append an audit event to the patient's chain (or the system chain).

    A ``durable`` event is written even when the request fails afterwards: if the unit of
    work rolls back, the event is appended again in its own transaction. Decisions (permit and
    deny) and logins are durable; an event that describes a write is not, since it must
    disappear together with the write it describes.
    """
    key = chain_of(patient_id)
    fields: dict[str, Any] = {
        "chain": key,
        "at": at.isoformat(),
        "actor_id": str(actor_id) if actor_id is not None else None,
        "action": action,
        "outcome": outcome,
        "reason": reason,
        "client": client,
    }

    def build(seq: int, entry_id: uuid.UUID) -> dict[str, Any]:
        return {**fields, "seq": seq, "id": str(entry_id)}

    await append(session, AUDIT, key, build)
    if durable:

        async def again(fresh: AsyncSession) -> None:
            await append(fresh, AUDIT, key, build)

        on_rollback(session, again)


async def record_login(
    session: AsyncSession,
    *,
    user: User | None,
    username: str,
    ok: bool,
    at: datetime,
    client: str | None,
) -> None:
    """Audit a login attempt, successful or not (kept even though a failed login rolls back)."""
    await record(
        session,
        patient_id=None,
        actor_id=user.id if user is not None else None,
        action="login",
        outcome="success" if ok else "failure",
        reason=f"username {username[:80]}",
        at=at,
        client=client,
        durable=True,
    )


async def access_log(
    session: AsyncSession,
    patient_id: uuid.UUID,
    *,
    cursor_seq: int | None,
    limit: int,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the patient's audit chain, oldest first (or newest first), from after
    ``cursor_seq`` on, each event's actor named (``accounts.directory``); the last seq shown
    if there is more."""
    query = select(AuditEntry.seq, AuditEntry.document).where(
        AuditEntry.chain == chain_of(patient_id)
    )
    if cursor_seq is not None:
        query = query.where(
            AuditEntry.seq < cursor_seq if newest_first else AuditEntry.seq > cursor_seq
        )
    order = AuditEntry.seq.desc() if newest_first else AuditEntry.seq
    rows = (await session.execute(query.order_by(order).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    docs = [(seq, json.loads(document)) for seq, document in rows]
    actors = await people(
        session, (_uuid_or_none(doc["actor_id"]) for _, doc in docs), patient_id=patient_id
    )
    items = []
    for seq, doc in docs:
        actor_id = _uuid_or_none(doc["actor_id"])
        items.append(
            {
                "seq": seq,
                "at": doc["at"],
                "actor_id": actor_id,
                "actor": actors.get(actor_id) if actor_id is not None else None,
                "action": doc["action"],
                "outcome": doc["outcome"],
                "reason": doc["reason"],
            }
        )
    return items, (rows[-1][0] if more else None)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None
