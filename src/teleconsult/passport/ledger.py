"""Appending to and reading hash chains in the database.

Appends to one chain are serialised: the chain's head row is locked (``SELECT … FOR
UPDATE``) on PostgreSQL; on SQLite every transaction already begins with ``BEGIN
IMMEDIATE``, which admits one writer at a time. So parallel writers for one patient never
fork the chain, and a unique ``(key, seq)`` constraint backs that up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit.models import AuditEntry
from .chain import StoredEntry, canonical, genesis, link
from .models import ChainHead, PassportEntry


@dataclass(frozen=True)
class Ledger:
    """A family of chains stored in one table, one chain per key.

    ``columns`` are columns that repeat document fields; ``bounds(key, row)`` gives the
    prefix and suffix the canonical document must have for the row's columns.
    """

    name: str
    table: Table
    key_column: Column[Any]
    key_value: Callable[[str], Any]
    columns: tuple[str, ...]
    bounds: Callable[[str, Any], tuple[str, str]]


def _json(value: Any) -> str:
    return f'"{value}"' if value is not None else "null"


def _passport_bounds(key: str, row: Any) -> tuple[str, str]:
    # Sorted keys: "amends" comes first, "kind", "patient_id", "seq" close the document.
    return (
        '{"amends":' + _json(row.amends) + ",",
        f',"kind":"{row.kind}","patient_id":"{key}","seq":{row.seq}}}',
    )


def _audit_bounds(key: str, row: Any) -> tuple[str, str]:
    return "{", f',"seq":{row.seq}}}'


_PASSPORT_TABLE = cast(Table, PassportEntry.__table__)
_AUDIT_TABLE = cast(Table, AuditEntry.__table__)
PASSPORT = Ledger(
    "passport",
    _PASSPORT_TABLE,
    _PASSPORT_TABLE.c.patient_id,
    uuid.UUID,
    ("kind", "amends"),
    _passport_bounds,
)
AUDIT = Ledger("audit", _AUDIT_TABLE, _AUDIT_TABLE.c.chain, str, (), _audit_bounds)
LEDGERS = (PASSPORT, AUDIT)


@dataclass(frozen=True)
class Appended:
    id: uuid.UUID
    seq: int
    document: str
    hash: str
    doc: dict[str, Any]


_HEAD = cast(Table, ChainHead.__table__)


async def _lock_head(session: AsyncSession, ledger: str, key: str) -> tuple[int, str]:
    locate = (
        select(_HEAD.c.seq, _HEAD.c.hash)
        .where(_HEAD.c.ledger == ledger, _HEAD.c.key == key)
        .with_for_update()
    )
    row = (await session.execute(locate)).first()
    if row is None:
        dialect = session.get_bind().dialect.name
        insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
        # Two first writers may race to create the head: one inserts, the other waits for
        # it and then locks the same row.
        await session.execute(
            insert_fn(_HEAD)
            .values(ledger=ledger, key=key, seq=0, hash=genesis(ledger, key))
            .on_conflict_do_nothing()
        )
        row = (await session.execute(locate)).one()
    return int(row.seq), str(row.hash)


async def append(
    session: AsyncSession,
    ledger: Ledger,
    key: str,
    build: Callable[[int, uuid.UUID], dict[str, Any]],
    columns: dict[str, Any] | None = None,
) -> Appended:
    """Append one entry to chain ``key``; ``build(seq, id)`` gives the entry's document and
    ``columns`` the values of the ledger's repeated columns."""
    seq, prev = await _lock_head(session, ledger.name, key)
    seq += 1
    entry_id = uuid.uuid4()
    doc = build(seq, entry_id)
    document = canonical(doc)
    digest = link(prev, document)
    await session.execute(
        insert(ledger.table).values(
            {
                "id": entry_id,
                ledger.key_column.name: ledger.key_value(key),
                "seq": seq,
                "document": document,
                "prev_hash": prev,
                "hash": digest,
                **(columns or {}),
            }
        )
    )
    await session.execute(
        update(_HEAD)
        .where(_HEAD.c.ledger == ledger.name, _HEAD.c.key == key)
        .values(seq=seq, hash=digest)
    )
    return Appended(entry_id, seq, document, digest, doc)


async def stored_entries(session: AsyncSession, ledger: Ledger, key: str) -> list[StoredEntry]:
    """Every row of one chain, in ``seq`` order, exactly as stored (ids are left out: only
    a bad entry's id is needed, see :func:`entry_id`)."""
    t = ledger.table
    extra = [t.c[name] for name in ledger.columns]
    conn = await session.connection()
    rows = await conn.execute(
        select(t.c.seq, t.c.document, t.c.prev_hash, t.c.hash, *extra)
        .where(ledger.key_column == ledger.key_value(key))
        .order_by(t.c.seq)
    )
    bounds = ledger.bounds
    return [
        StoredEntry(None, r.seq, r.document, r.prev_hash, r.hash, *bounds(key, r)) for r in rows
    ]


async def entry_id(session: AsyncSession, ledger: Ledger, key: str, seq: int) -> str | None:
    """The id of the entry stored at ``seq`` in chain ``key``, if there is one."""
    t = ledger.table
    found = await session.scalar(
        select(t.c.id).where(ledger.key_column == ledger.key_value(key), t.c.seq == seq).limit(1)
    )
    return str(found) if found is not None else None


async def chain_keys(session: AsyncSession, ledger: Ledger) -> list[str]:
    """The keys of every chain that has at least one entry."""
    rows = await session.scalars(select(ledger.key_column).distinct())
    return sorted(str(k) for k in rows)
