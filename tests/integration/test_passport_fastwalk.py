"""The compiled check (passport/fastwalk.py) against the Python walk, its judge: over every
piece of a clean chain and of a chain tampered with in each of the ways verify must catch,
on both engines, it passes exactly the pieces the Python walk passes, with the same report,
and never one that holds a bad entry."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from teleconsult.clock import FakeClock
from teleconsult.db.engine import make_sessionmaker
from teleconsult.passport import fastwalk
from teleconsult.passport.chain import Segment, walk_segment
from teleconsult.passport.ledger import (
    AUDIT,
    PASSPORT,
    Ledger,
    key_param,
    last_seq,
    parts_sql,
    stored_entries,
)
from teleconsult.passport.pieces import database_target

from ..conftest import IN_CI, Database
from .passport_support import prescription
from .test_passport_tamper import CASES, Tamper, _tamper, _written


@pytest.fixture(autouse=True)
def _built(database: Database) -> None:
    if not fastwalk.available(database.engine.dialect.name):
        if IN_CI:
            pytest.fail("the compiled check must be built in CI (SQLite, libpq, OpenSSL headers)")
        pytest.skip("the compiled check is not built (no SQLite, libpq or OpenSSL headers)")


async def _agree(
    database: Database, ledger: Ledger, key: str, length: int, exact: bool = True
) -> tuple[int, int]:
    """Every piece first..last (past the chain's end too), with and without a mark: the
    compiled check passes a piece if and only if the Python walk does, with its report.
    Not ``exact``: it may also refuse a piece the Python walk passes (which then decides).
    Returns how many pieces passed and failed."""
    dialect, target = database_target(database.url)
    sql, param = parts_sql(ledger, dialect), key_param(ledger, key, dialect)
    passed = failed = 0
    async with make_sessionmaker(database.engine)() as session:
        for first in range(1, length + 2):
            for last in range(first, length + 3):
                rows = await stored_entries(session, ledger, key, first, last)
                for mark in (0, first, last):
                    python = walk_segment(
                        rows, first, None, mark, ledger.binding(key, dialect == "sqlite")
                    )
                    compiled = await asyncio.to_thread(
                        fastwalk.walk,
                        dialect,
                        target,
                        sql,
                        ledger.name,
                        key,
                        param,
                        first,
                        last,
                        mark,
                    )
                    if python.bad is None:
                        if compiled is None and not exact:
                            continue
                        assert compiled == python, (first, last, mark)
                        passed += 1
                    else:
                        assert compiled is None, (first, last, mark, python.bad)
                        failed += 1
        await session.rollback()
    return passed, failed


async def test_a_clean_chain_passes_piece_by_piece(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await _written(client, database, clock)
    passed, failed = await _agree(database, PASSPORT, c.patient_id, 6)
    assert failed == 0 and passed > 0
    dialect, target = database_target(database.url)
    whole = fastwalk.walk(
        dialect,
        target,
        parts_sql(PASSPORT, dialect),
        "passport",
        c.patient_id,
        key_param(PASSPORT, c.patient_id, dialect),
        1,
        6,
    )
    assert isinstance(whole, Segment) and whole.count == 6 and whole.first_seq == 1
    # The audit chain of the same patient (every read and write was audited).
    async with make_sessionmaker(database.engine)() as session:
        audited = await last_seq(session, AUDIT, c.patient_id)
    passed, failed = await _agree(database, AUDIT, c.patient_id, audited)
    assert failed == 0 and passed > 0


async def test_a_chain_with_corrections_passes_piece_by_piece(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """Corrections fill the amends column, which the check reads in the database's own form
    (on PostgreSQL, a UUID's 16 bytes) and compares with the document's."""
    c = await _written(client, database, clock, n=2)
    status, first = await prescription(c.w.specialist, c.consultation_id, "Amlodipin")
    assert status == 201, first
    status, fixed = await prescription(
        c.w.specialist, c.consultation_id, "Amlodipine", amends=first["id"]
    )
    assert status == 201 and fixed["amends"] == first["id"], fixed
    passed, failed = await _agree(database, PASSPORT, c.patient_id, 4)
    assert failed == 0 and passed > 0


@pytest.mark.parametrize(
    ("change", "first_bad_seq", "problem"), CASES, ids=[c[0].__name__ for c in CASES]
)
async def test_no_piece_with_a_bad_entry_passes(
    client: Any,
    database: Database,
    clock: FakeClock,
    change: Tamper,
    first_bad_seq: int,
    problem: str,
) -> None:
    c = await _written(client, database, clock)
    await _tamper(database, change, c.patient_id)
    passed, failed = await _agree(database, PASSPORT, c.patient_id, 8)
    # Truncation and a rewritten tail only show against a checkpoint, not inside a piece.
    if change.__name__ not in {"truncate", "rewrite"}:
        assert failed > 0
    assert passed > 0


# Values of unexpected types or lengths, which a C reader could take for others (an empty
# string for NULL, a blob for its text): no piece the Python walk fails passes. The
# compiled check also refuses text stored as a blob where the Python walk, which reads the
# bytes, lets it pass within a piece; the Python walk then decides. (SQLite: PostgreSQL
# keeps every column in its declared type.)
ODD_VALUES = [
    "UPDATE passport_entries SET amends = '' WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET kind = '' WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET hash = CAST(hash AS BLOB) WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET prev_hash = CAST(prev_hash AS BLOB) "
    "WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET document = CAST(document AS BLOB) "
    "WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET id = CAST(id AS BLOB) WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET seq = CAST(seq AS TEXT) WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET prev_hash = '' WHERE patient_id = :p AND seq = 2",
    "UPDATE passport_entries SET prev_hash = prev_hash || prev_hash || prev_hash || prev_hash "
    "|| prev_hash WHERE patient_id = :p AND seq = 2",
]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("sql", ODD_VALUES)
async def test_odd_values_are_judged_as_the_python_walk_judges_them(
    client: Any, database: Database, clock: FakeClock, sql: str
) -> None:
    c = await _written(client, database, clock, n=3)

    async def change(conn: Any, p: str) -> None:
        await conn.execute(text(sql), {"p": uuid.UUID(p).hex})

    await _tamper(database, change, c.patient_id)
    await _agree(database, PASSPORT, c.patient_id, 3, exact=False)


POSTGRES_ONLY = pytest.mark.parametrize(
    "database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@POSTGRES_ONLY
async def test_pieces_read_chains_through_their_index(database: Database) -> None:
    """The connections that read pieces on PostgreSQL never scan the table and sort it, even
    where the planner's statistics say a chain fills most of the table."""
    import asyncpg

    dialect, target = database_target(database.url)
    conn = await asyncpg.connect(target)
    try:
        assert await conn.fetchval("SHOW enable_sort") == "off"
        await conn.execute("ANALYZE passport_entries")
        plan = await conn.fetch(
            "EXPLAIN " + parts_sql(PASSPORT, dialect), uuid.uuid4(), 1, 2**31 - 1
        )
    finally:
        await conn.close()
    lines = " ".join(row[0] for row in plan)
    assert "Index Scan" in lines and "Sort" not in lines and "Seq Scan" not in lines, lines
