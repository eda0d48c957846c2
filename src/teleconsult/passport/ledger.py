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
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Column, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ..audit.models import AuditEntry
from ..db.sqlite_driver import fetch_rows
from .bindings import BINDINGS, audit_binding, passport_binding
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


_PASSPORT_TABLE = cast(Table, PassportEntry.__table__)
_AUDIT_TABLE = cast(Table, AuditEntry.__table__)
PASSPORT = Ledger(
    "passport",
    _PASSPORT_TABLE,
    _PASSPORT_TABLE.c.patient_id,
    uuid.UUID,
    ("id", "kind", "amends"),
    frozenset({"id", "amends"}),
    passport_binding,
)
AUDIT = Ledger("audit", _AUDIT_TABLE, _AUDIT_TABLE.c.chain, str, (), frozenset(), audit_binding)
LEDGERS = (PASSPORT, AUDIT)
assert {ledger.name: ledger.binding for ledger in LEDGERS} == BINDINGS


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


def _columns(ledger: Ledger, dialect: str, leading: list[str]) -> list[str]:
    """``leading`` then the ledger's own columns, as the driver should hand them over:
    SQLite keeps TEXT as UTF-8 and UUIDs as 32 hex digits already; on PostgreSQL UUIDs are
    read as their text."""
    columns = [*leading, *ledger.columns]
    if dialect == "sqlite":
        return columns
    return [f"CAST({c} AS TEXT)" if c in ledger.uuids else c for c in columns]


def _chain_range(ledger: Ledger, dialect: str, columns: list[str]) -> str:
    """``columns`` of one chain's rows from seq ``$2`` to ``$3`` (key ``$1``), in seq order."""
    t, key = ledger.table.name, ledger.key_column.name
    first, low, high = ("?", "?", "?") if dialect == "sqlite" else ("$1", "$2", "$3")
    return (
        f"SELECT {', '.join(columns)} FROM {t} "
        f"WHERE {key} = {first} AND seq BETWEEN {low} AND {high} ORDER BY seq"
    )


def _walked_columns(ledger: Ledger, dialect: str) -> str:
    """What the walk reads of a row: ``seq, prev_hash, payload, hash, *columns``."""
    if dialect == "sqlite":
        payload = "CAST(prev_hash || document AS BLOB)"
    else:
        payload = "convert_to(prev_hash || document, 'UTF8')"
    return ", ".join(_columns(ledger, dialect, ["seq", "prev_hash", payload, "hash"]))


def entries_sql(ledger: Ledger, dialect: str) -> str:
    """The query for one chain's rows from seq ``$2`` to ``$3`` (key ``$1``), as the walk
    reads them: ``(seq, prev_hash, payload, hash, *columns)`` (see :class:`chain.StoredEntry`).

    It is sent through the driver itself, so that rows arrive exactly as stored (the payload
    as UTF-8 bytes, UUIDs as the database's own text) with no conversion on the way: a chain
    is walked by the thousand. Ids are left out; only a bad entry's id is needed
    (:func:`entry_id`).
    """
    return _chain_range(ledger, dialect, [_walked_columns(ledger, dialect)])


def parts_sql(ledger: Ledger, dialect: str) -> str:
    """:func:`entries_sql` for the compiled check (:mod:`.fastwalk`), with the document apart
    from the previous hash: ``(seq, prev_hash, document, hash, *columns)``. The check hashes
    the two one after the other, where SQL would first copy them into one value. On
    PostgreSQL it reads the rows in the binary format, UUIDs as their 16 bytes: writing them
    as text cost the server some 10% of its time per row (docs/passport.md)."""
    return _chain_range(ledger, dialect, ["seq", "prev_hash", "document", "hash", *ledger.columns])


def key_param(ledger: Ledger, key: str, dialect: str) -> Any:
    """A chain's key as the driver takes it."""
    value = ledger.key_value(key)
    if dialect == "sqlite" and isinstance(value, uuid.UUID):
        return value.hex  # SQLite keeps UUIDs as 32 hex digits
    return value


async def stored_entries(
    session: AsyncSession, ledger: Ledger, key: str, first: int = 1, last: int = 2**31 - 1
) -> list[Sequence[Any]]:
    """The rows of chain ``key`` from seq ``first`` to ``last``, in ``seq`` order, as the
    walk reads them (:func:`entries_sql`); ``ledger.binding`` checks their columns."""
    conn = await session.connection()
    raw: Any = await conn.get_raw_connection()
    dialect = conn.dialect.name
    sql, value = entries_sql(ledger, dialect), key_param(ledger, key, dialect)
    if dialect == "sqlite":
        return await fetch_rows(raw.dbapi_connection, sql, (value, first, last))
    return list(await raw.driver_connection.fetch(sql, value, first, last))


async def stored_chains(
    session: AsyncSession, ledger: Ledger, keys: Sequence[str]
) -> dict[str, list[Sequence[Any]]]:
    """The rows of several chains in one query, by key, each chain's rows in ``seq`` order
    and shaped as :func:`stored_entries` gives them. Most chains are short: a query each
    would cost several times the walk of their rows."""
    conn = await session.connection()
    raw: Any = await conn.get_raw_connection()
    dialect = conn.dialect.name
    t, column = ledger.table.name, ledger.key_column.name
    # The driver hands each key back in the form it takes it.
    by_value = {key_param(ledger, key, dialect): key for key in keys}
    chains: dict[str, list[Sequence[Any]]] = {key: [] for key in keys}
    select_ = f"SELECT {column}, {_walked_columns(ledger, dialect)} FROM {t}"
    if dialect == "sqlite":
        marks = ", ".join("?" * len(by_value))
        sql = f"{select_} WHERE {column} IN ({marks}) ORDER BY {column}, seq"
        rows = await fetch_rows(raw.dbapi_connection, sql, list(by_value))
    else:
        array = "uuid[]" if ledger.key_value is uuid.UUID else "text[]"
        sql = f"{select_} WHERE {column} = ANY($1::{array}) ORDER BY {column}, seq"
        rows = await raw.driver_connection.fetch(sql, list(by_value))
    for value, chain in groupby(rows, itemgetter(0)):
        chains[by_value[value]] = [row[1:] for row in chain]
    return chains


async def last_seq(session: AsyncSession, ledger: Ledger, key: str) -> int:
    """The highest seq stored in chain ``key`` (0 for none)."""
    conn = await session.connection()
    found = await conn.scalar(_LAST_SEQ[ledger.name], {"key": ledger.key_value(key)})
    return int(found or 0)


# Built once per ledger (and their cache keys with them): verify asks for every long chain.
_LAST_SEQ = {
    ledger.name: select(func.max(ledger.table.c.seq)).where(ledger.key_column == bindparam("key"))
    for ledger in LEDGERS
}


async def entry_id(session: AsyncSession, ledger: Ledger, key: str, seq: int) -> str | None:
    """The id of the entry stored at ``seq`` in chain ``key``, if there is one."""
    t = ledger.table
    found = await session.scalar(
        select(t.c.id).where(ledger.key_column == ledger.key_value(key), t.c.seq == seq).limit(1)
    )
    return str(found) if found is not None else None


async def chain_lengths(session: AsyncSession, ledger: Ledger) -> dict[str, int]:
    """Every chain that has at least one entry, with its highest seq."""
    t = ledger.table
    rows = await session.execute(
        select(ledger.key_column, func.max(t.c.seq)).group_by(ledger.key_column)
    )
    return {str(key): int(last) for key, last in rows}
