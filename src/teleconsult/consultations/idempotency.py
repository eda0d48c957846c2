"""Idempotency-Key: a retried booking or move gets the stored answer of the first try, and a
key reused for a different request is refused (409 ``idempotency_key_reused``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Conflict
from .models import IdempotencyRecord


def request_fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def replay(
    session: AsyncSession, user_id: uuid.UUID, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """The stored answer for a retried request, if this key was used before."""
    record = await session.get(IdempotencyRecord, (user_id, key))
    if record is not None and record.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used for a different request.",
            fields={"Idempotency-Key": "reused with a different body"},
            code="idempotency_key_reused",
        )
    return record


async def remember(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str,
    fingerprint: str,
    status: int,
    response: dict[str, Any],
    now: datetime,
) -> None:
    session.add(
        IdempotencyRecord(
            user_id=user_id,
            key=key,
            request_hash=fingerprint,
            status=status,
            response=response,
            created_at=now,
        )
    )
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "A request with this Idempotency-Key is being processed; retry shortly.",
            code="idempotency_in_progress",
        ) from None
