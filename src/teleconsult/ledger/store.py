"""Appending to hash chains in the database, and reading them back as the walk reads them.

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

from sqlalchemy import Table, TextClause, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from .chain import canonical, genesis, link
from .models import ChainHead
from .tables import LEDGERS, Ledger


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
_INSERT = {ledger.name: insert(ledger.table) for ledger in LEDGERS}


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
        _INSERT[ledger.name],
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


# --- reading chains as the walk reads them ------------------------------------------------


def walked_columns(ledger: Ledger, dialect: str) -> str:
    """What the walk reads of a row: ``seq, prev_hash, payload, hash, *columns`` (see
    :class:`chain.StoredEntry`). The payload is the previous hash then the document, as the
    UTF-8 bytes the entry's hash covers. UUIDs come as the database's own text: 32 hex
    digits on SQLite, dashed on PostgreSQL (the binding is told which)."""
    if dialect == "sqlite":
        payload = "CAST(prev_hash || document AS BLOB)"
        columns = list(ledger.columns)
    else:
        payload = "convert_to(prev_hash || document, 'UTF8')"
        columns = [f"CAST({c} AS TEXT)" if c in ledger.uuids else c for c in ledger.columns]
    return ", ".join(["seq", "prev_hash", payload, "hash", *columns])


def entries_sql(ledger: Ledger, dialect: str, marks: tuple[str, str, str]) -> str:
    """One chain's rows from seq ``first`` to ``last``, in seq order, as the walk reads them,
    with ``marks`` standing for (key, first, last) in the SQL: the stock drivers in the
    worker processes take their own placeholders."""
    key, first, last = marks
    return (
        f"SELECT {walked_columns(ledger, dialect)} FROM {ledger.table.name} "
        f"WHERE {ledger.key_column.name} = {key} AND seq BETWEEN {first} AND {last} ORDER BY seq"
    )


def key_param(ledger: Ledger, key: str, dialect: str) -> Any:
    """A chain's key as the database holds it (SQLite keeps UUIDs as 32 hex digits)."""
    value = ledger.key_value(key)
    if dialect == "sqlite" and isinstance(value, uuid.UUID):
        return value.hex
    return value


def _entries_query(ledger: Ledger, dialect: str) -> TextClause:
    return text(entries_sql(ledger, dialect, (":key", ":first", ":last")))


async def stored_entries(
    session: AsyncSession, ledger: Ledger, key: str, first: int = 1, last: int = 2**31 - 1
) -> list[Sequence[Any]]:
    """The rows of chain ``key`` from seq ``first`` to ``last``, in ``seq`` order, as the
    walk reads them (:func:`walked_columns`); ``ledger.binding`` checks their columns."""
    conn = await session.connection()
    dialect = conn.dialect.name
    params = {"key": key_param(ledger, key, dialect), "first": first, "last": last}
    return list(await conn.execute(_entries_query(ledger, dialect), params))


async def stored_chains(
    session: AsyncSession, ledger: Ledger, keys: Sequence[str]
) -> dict[str, list[Sequence[Any]]]:
    """The rows of several chains in one query, by key, each chain's rows in ``seq`` order
    and shaped as :func:`stored_entries` gives them. Most chains are short: one query for
    many of them saves a round trip each."""
    conn = await session.connection()
    dialect = conn.dialect.name
    column = ledger.key_column.name
    # The database gives each key back in the form it takes it.
    by_value = {key_param(ledger, key, dialect): key for key in keys}
    query = text(
        f"SELECT {column}, {walked_columns(ledger, dialect)} FROM {ledger.table.name}"
        f" WHERE {column} IN :keys ORDER BY {column}, seq"
    ).bindparams(bindparam("keys", expanding=True))
    rows = await conn.execute(query, {"keys": list(by_value)})
    chains: dict[str, list[Sequence[Any]]] = {key: [] for key in keys}
    for value, chain in groupby(rows, itemgetter(0)):
        chains[by_value[value]] = [tuple(row[1:]) for row in chain]
    return chains


# Built once per ledger: verify asks for the length of every long chain.
_LAST_SEQ = {
    ledger.name: select(func.max(ledger.table.c.seq)).where(ledger.key_column == bindparam("key"))
    for ledger in LEDGERS
}


async def last_seq(session: AsyncSession, ledger: Ledger, key: str) -> int:
    """The highest seq stored in chain ``key`` (0 for none)."""
    conn = await session.connection()
    found = await conn.scalar(_LAST_SEQ[ledger.name], {"key": ledger.key_value(key)})
    return int(found or 0)


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
