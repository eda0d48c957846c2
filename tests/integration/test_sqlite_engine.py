"""SQLite through SQLAlchemy's stock aiosqlite dialect, set up by ``db.engine``: writes are
durable and serialised from a transaction's first statement, and readers never wait for
a writer."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from teleconsult.db.engine import make_engine, readers


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    async with made.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield made
    await made.dispose()


def _other(engine: AsyncEngine) -> sqlite3.Connection:
    """A plain connection of another process's kind, that never waits for a lock."""
    return sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)


async def test_writers_are_durable(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 2  # FULL
        await conn.rollback()


async def test_the_write_lock_is_taken_with_the_first_statement(engine: AsyncEngine) -> None:
    """Every transaction begins IMMEDIATE, even one that reads first: writers queue on the
    database lock instead of failing when a read lock cannot be upgraded."""
    other = _other(engine)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert other.execute("SELECT n FROM t").fetchall() == [(1,)]
    finally:
        other.close()


async def test_a_failed_statement_raises_and_the_transaction_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(exc.OperationalError):
            await conn.execute(text("SELECT nope FROM t"))
        await conn.execute(text("INSERT INTO t VALUES (2)"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2


async def test_readers_read_beside_a_writer_and_never_write(engine: AsyncEngine) -> None:
    other = _other(engine)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (7)")
        async with readers(engine).connect() as conn:
            # The writer holds the lock: the reader reads the last committed state at once.
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            with pytest.raises(exc.OperationalError, match="readonly"):
                await conn.execute(text("INSERT INTO t VALUES (8)"))
        other.execute("COMMIT")
    finally:
        other.close()
