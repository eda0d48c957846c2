"""A passport entry as stored (its canonical document and hash) read back as a plain dict.

Reading here makes no consent decision: every caller has made one before it asks."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import PassportEntry
from .schemas import Kind


def parse_entry(document: str, digest: str) -> dict[str, Any]:
    """The entry held in ``document`` (its canonical JSON), with the chain hash it got."""
    doc = json.loads(document)
    return {
        "id": doc["id"],
        "patient_id": doc["patient_id"],
        "seq": doc["seq"],
        "kind": doc["kind"],
        "author_id": doc["author_id"],
        "consultation_id": doc["consultation_id"],
        "body": doc["body"],
        "created_at": doc["created_at"],
        "hash": digest,
        "amends": doc["amends"],
    }


async def entries_of(
    session: AsyncSession, patient_id: uuid.UUID, kinds: frozenset[Kind] | None = None
) -> list[dict[str, Any]]:
    """Every entry of the patient's passport (of ``kinds`` only, if given: a correction has
    the kind of what it corrects) in chain order."""
    statement = select(PassportEntry.document, PassportEntry.hash).where(
        PassportEntry.patient_id == patient_id
    )
    if kinds is not None:
        statement = statement.where(PassportEntry.kind.in_(sorted(k.value for k in kinds)))
    rows = await session.execute(statement.order_by(PassportEntry.seq))
    return [parse_entry(document, digest) for document, digest in rows]
