"""Appending to and reading hash chains in the database.

Appends to one chain are serialised: the chain's head row is locked (``SELECT … FOR
UPDATE``) on PostgreSQL; on SQLite every transaction already begins with ``BEGIN
IMMEDIATE``, which admits one writer at a time. So parallel writers for one patient never
fork the chain, and a unique ``(key, seq)`` constraint backs that up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ..audit.models import AuditEntry
from .chain import Binding, canonical, genesis, link
from .models import ChainHead, PassportEntry


@dataclass(frozen=True)
class Ledger:
    """A family of chains stored in one table, one chain per key.

    ``columns`` are columns that repeat document fields (UUIDs among them as ``uuids``);
    ``binding(key, hex_uuids)`` checks them against the rows' documents (see
    :data:`chain.Binding`); ``hex_uuids`` says the database returns UUIDs as 32 hex digits.
    """

    name: str
    table: Table
    key_column: Column[Any]
    key_value: Callable[[str], Any]
    columns: tuple[str, ...]
    uuids: frozenset[str]
    binding: Callable[[str, bool], Binding]


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def _passport_binding(key: str, hex_uuids: bool) -> Binding:
    # Sorted keys: "amends" opens the document; "id", "kind", "patient_id", "seq" close it.
    # The payload is the 64-digit previous hash, then the document.
    closing = f'","patient_id":"{key}","seq":'

    def unbound(rows: Sequence[Sequence[Any]]) -> Sequence[Any] | None:
        for row in rows:
            seq, _, payload, _, i, kind, amends = row
            if amends is None:
                if not payload.startswith(b'{"amends":null,', 64):
                    return row
            else:
                amended = _dashed(amends) if hex_uuids else amends
                if not payload.startswith(f'{{"amends":"{amended}",'.encode(), 64):
                    return row
            # Once per entry: the id's dashes put in place inline, not through a call.
            tail = (
                f',"id":"{i[:8]}-{i[8:12]}-{i[12:16]}-{i[16:20]}-{i[20:]}","kind":"{kind}'
                if hex_uuids
                else f',"id":"{i}","kind":"{kind}'
            )
            if not payload.endswith(f"{tail}{closing}{seq}}}".encode()):
                return row
        return None

    return unbound


def _audit_binding(key: str, hex_uuids: bool) -> Binding:
    def unbound(rows: Sequence[Sequence[Any]]) -> Sequence[Any] | None:
        for row in rows:
            payload = row[2]
            if not (payload.startswith(b"{", 64) and payload.endswith(b',"seq":%d}' % row[0])):
                return row
        return None

    return unbound


_PASSPORT_TABLE = cast(Table, PassportEntry.__table__)
_AUDIT_TABLE = cast(Table, AuditEntry.__table__)
PASSPORT = Ledger(
    "passport",
    _PASSPORT_TABLE,
    _PASSPORT_TABLE.c.patient_id,
    uuid.UUID,
    ("id", "kind", "amends"),
    frozenset({"id", "amends"}),
    _passport_binding,
)
AUDIT = Ledger("audit", _AUDIT_TABLE, _AUDIT_TABLE.c.chain, str, (), frozenset(), _audit_binding)
LEDGERS = (PASSPORT, AUDIT)


@dataclass(frozen=True)
class Appended:
    id: uuid.UUID
    seq: int
    document: str
    hash: str
    doc: dict[str, Any]


_HEAD = cast(Table, ChainHead.__table__)
# Built once: appends run on every passport read (its audit entry) and every write.
_LOCATE_HEAD = (
    select(_HEAD.c.seq, _HEAD.c.hash)
    .where(_HEAD.c.ledger == bindparam("ledger"), _HEAD.c.key == bindparam("key"))
    .with_for_update()
)


async def _lock_head(conn: AsyncConnection, ledger: str, key: str) -> tuple[int, str]:
    where = {"ledger": ledger, "key": key}
    row = (await conn.execute(_LOCATE_HEAD, where)).first()
    if row is None:
        insert_fn = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        # Two first writers may race to create the head: one inserts, the other waits for
        # it and then locks the same row.
        await conn.execute(
            insert_fn(_HEAD)
            .values(ledger=ledger, key=key, seq=0, hash=genesis(ledger, key))
            .on_conflict_do_nothing()
        )
        row = (await conn.execute(_LOCATE_HEAD, where)).one()
    return int(row.seq), str(row.hash)


async def append(
    session: AsyncSession,
    ledger: Ledger,
    key: str,
    build: Callable[[int, uuid.UUID], dict[str, Any]],
    columns: dict[str, Any] | None = None,
) -> Appended:
    """Append one entry to chain ``key``; ``build(seq, id)`` gives the entry's document and
    ``columns`` the values of the ledger's repeated columns.

    Two statements: lock the chain's head, insert the entry. The INSERT advances the head
    itself (a trigger, migration 0006), so the head can never lag behind its chain.
    """
    conn = await session.connection()
    seq, prev = await _lock_head(conn, ledger.name, key)
    seq += 1
    entry_id = uuid.uuid4()
    doc = build(seq, entry_id)
    document = canonical(doc)
    digest = link(prev, document)
    await conn.execute(
        insert(ledger.table),
        {
            "id": entry_id,
            ledger.key_column.name: ledger.key_value(key),
            "seq": seq,
            "document": document,
            "prev_hash": prev,
            "hash": digest,
            **(columns or {}),
        },
    )
    return Appended(entry_id, seq, document, digest, doc)


async def stored_entries(
    session: AsyncSession, ledger: Ledger, key: str
) -> tuple[list[Sequence[Any]], Binding]:
    """Every row of one chain in ``seq`` order, exactly as stored, and the check that binds
    the ledger's columns to the documents.

    Rows are tuples ``(seq, prev_hash, payload, hash, *columns)`` (see
    :class:`chain.StoredEntry`); ids are left out, only a bad entry's id is needed (see
    :func:`entry_id`). This is the one place that reads through the driver itself: a chain
    is walked by the thousand, and the rows are used exactly as the database sends them
    (the payload as UTF-8 bytes, UUIDs as the database's own text): the driver's rows,
    with no conversion on the way.
    """
    t = ledger.table
    conn = await session.connection()
    driver: Any = (await conn.get_raw_connection()).driver_connection
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # SQLite keeps TEXT as UTF-8 and UUIDs as 32 hex digits, as the driver returns them.
        payload, columns = "CAST(prev_hash || document AS BLOB)", list(ledger.columns)
        where = "?"
    else:
        payload = "convert_to(prev_hash || document, 'UTF8')"
        columns = [f"CAST({c} AS TEXT)" if c in ledger.uuids else c for c in ledger.columns]
        where = "$1"
    sql = (
        f"SELECT {', '.join(['seq', 'prev_hash', payload, 'hash', *columns])} "
        f"FROM {t.name} WHERE {ledger.key_column.name} = {where} ORDER BY seq"
    )
    value = ledger.key_value(key)
    if sqlite:
        if isinstance(value, uuid.UUID):
            value = value.hex
        rows: list[Sequence[Any]] = list(await driver.execute_fetchall(sql, (value,)))
    else:
        rows = await driver.fetch(sql, value)
    return rows, ledger.binding(key, sqlite)


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
