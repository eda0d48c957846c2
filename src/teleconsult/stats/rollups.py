"""Keeping the rollup rows current, in the same transaction as each consultation change.

The consultation service calls :func:`record_change` after every booking and transition.
The changes of a transaction are summed and written as its last statements, just before it
commits (``db.uow.before_commit``): every booking of a day and specialty adds to the same
rows, so their row locks are held from there to the commit, not for the whole request.
Counters are added with one ``INSERT … ON CONFLICT DO UPDATE`` (atomic under concurrency);
histograms are read under a row lock, added to and written back. Rows are always touched in
key order, so two transactions changing the same cohorts cannot deadlock on them.

A session whose ``info`` holds an :data:`ON_COMMIT` hook (the app's sessions: the report
cache of ``stats/cache.py``) runs it once after any transaction that changed rollups commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.uow import after_commit, before_commit
from . import sketch
from .cells import COUNTERS, HISTOGRAMS, Cell, Facts, Key, delta, facts_of
from .models import StatsRollup

TABLE = cast(Table, StatsRollup.__table__)
KEY_COLUMNS = ("grain", "day", "specialty", "region", "facility")
# Session.info key of an async hook to run once after a commit that changed rollups.
ON_COMMIT = "teleconsult.stats.on_rollups_committed"
# Session.info key of the changes recorded in the transaction and not yet written.
_PENDING = "teleconsult.stats.pending"

__all__ = ["facts_of", "merge_rows", "record_change"]


async def record_change(session: AsyncSession, before: Facts | None, after: Any | None) -> None:
    """Apply a consultation's change to the rollups (``before`` is ``None`` for a booking),
    in this transaction, just before it commits.

    ``after`` is the consultation as it now is (``None`` if it was deleted).
    """
    changes = delta(before, facts_of(after) if after is not None else None)
    if not changes:
        return
    pending: dict[Key, Cell] = session.info.setdefault(_PENDING, {})
    for key, cell in changes.items():
        pending.setdefault(key, Cell()).add(cell)
    before_commit(session, _write_pending)
    _announce(session)


async def _write_pending(session: AsyncSession) -> None:
    changes = {k: c for k, c in session.info.pop(_PENDING, {}).items() if not c.is_zero()}
    if changes:
        await _apply(session, changes)


def _announce(session: AsyncSession) -> None:
    hook = session.info.get(ON_COMMIT)
    if hook is not None:
        after_commit(session, hook, once=True)


def _key_dict(key: Key) -> dict[str, Any]:
    return dict(zip(KEY_COLUMNS, key, strict=True))


def _match(keys: Iterable[Key]) -> Any:
    return or_(
        *(and_(*(TABLE.c[c] == v for c, v in zip(KEY_COLUMNS, k, strict=True))) for k in keys)
    )


def _upsert(dialect: Any) -> Any:
    ins = dialect.insert(TABLE)
    return ins.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={c: TABLE.c[c] + ins.excluded[c] for c in COUNTERS},
    )


# The upsert that adds counters, built once per dialect: one statement, run with a list of
# rows, so it is also compiled once (a multi-VALUES literal would be compiled every time).
_ADD_COUNTERS = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def _add_counters(session: AsyncSession) -> Any:
    return _ADD_COUNTERS[session.get_bind().dialect.name]


async def _apply(session: AsyncSession, changes: dict[Key, Cell]) -> None:
    keys = sorted(changes)
    await session.execute(
        _add_counters(session),
        [
            {**_key_dict(k), **{c: getattr(changes[k], c) for c in COUNTERS}}
            | dict.fromkeys(HISTOGRAMS, b"")
            for k in keys
        ],
    )
    with_histograms = [k for k in keys if any(getattr(changes[k], h) for h in HISTOGRAMS)]
    if not with_histograms:
        return
    rows = await session.execute(
        select(TABLE)
        .where(_match(with_histograms))
        .order_by(*(TABLE.c[c] for c in KEY_COLUMNS))
        .with_for_update()
    )
    params = []
    for row in rows.mappings():
        key: Key = tuple(row[c] for c in KEY_COLUMNS)
        change = changes[key]
        params.append(
            {f"k_{c}": row[c] for c in KEY_COLUMNS}
            | {
                f"v_{h}": sketch.encode(sketch.decode(row[h]) + getattr(change, h))
                for h in HISTOGRAMS
            }
        )
    await session.execute(_histogram_update(), params)


def _histogram_update() -> Any:
    return (
        update(TABLE)
        .where(*(TABLE.c[c] == bindparam(f"k_{c}") for c in KEY_COLUMNS))
        .values({h: bindparam(f"v_{h}") for h in HISTOGRAMS})
    )


def row_values(key: Key, cell: Cell) -> dict[str, Any]:
    """A rollup row as column values."""
    return (
        _key_dict(key)
        | {c: getattr(cell, c) for c in COUNTERS}
        | {h: sketch.encode(getattr(cell, h)) for h in HISTOGRAMS}
    )


async def merge_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Add many rollup rows (column values, histograms encoded) at once, for bulk loads.

    Rows already present in the affected day range are read under lock and added to; the
    rest are inserted in one go (``COPY`` on PostgreSQL).
    """
    if not rows:
        return
    _announce(session)
    fresh = {tuple(r[c] for c in KEY_COLUMNS): r for r in rows}
    existing = await session.execute(
        select(TABLE)
        .where(
            TABLE.c.day >= min(r["day"] for r in rows), TABLE.c.day <= max(r["day"] for r in rows)
        )
        .with_for_update()
    )
    updates = []
    for old in existing.mappings():
        new = fresh.pop(tuple(old[c] for c in KEY_COLUMNS), None)
        if new is None:
            continue
        updates.append(
            {f"k_{c}": old[c] for c in KEY_COLUMNS}
            | {f"v_{c}": old[c] + new[c] for c in COUNTERS}
            | {
                f"v_{h}": sketch.encode(sketch.decode(old[h]) + sketch.decode(new[h]))
                for h in HISTOGRAMS
            }
        )
    if updates:
        stmt = (
            update(TABLE)
            .where(*(TABLE.c[c] == bindparam(f"k_{c}") for c in KEY_COLUMNS))
            .values({c: bindparam(f"v_{c}") for c in (*COUNTERS, *HISTOGRAMS)})
        )
        await session.execute(stmt, updates)
    # In key order, so each level's rows of a period share few pages (the dashboard reads
    # the country level's rows together).
    order = itemgetter("region", "facility", "grain", "day", "specialty")
    await bulk_insert(session, TABLE.name, sorted(fresh.values(), key=order))


async def bulk_insert(session: AsyncSession, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert many rows fast: ``COPY`` on PostgreSQL, multi-row inserts elsewhere.

    Values must already be in database form (aware datetimes, UUIDs, bytes); SQLite gets
    them through the table's column types.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        values = itemgetter(*columns)
        await driver.copy_records_to_table(
            table, records=[values(r) for r in rows], columns=columns
        )
        return
    target = StatsRollup.metadata.tables[table]
    for start in range(0, len(rows), 5000):
        await session.execute(target.insert(), rows[start : start + 5000])
