"""The one-trip SQLite driver (db/sqlite_driver.py) behaves as SQLAlchemy's own aiosqlite
adapter does, statement for statement, and makes one trip to the connection's thread each."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from teleconsult.db.engine import make_engine
from teleconsult.db.sqlite_driver import fetch_rows


@pytest.fixture(params=["one trip", "stock adapter"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The product's engine, and SQLAlchemy's unchanged adapter as the reference."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}"
    made = make_engine(url) if request.param == "one trip" else create_async_engine(url)
    async with made.begin() as conn:
        await conn.execute(
            text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER)")
        )
    yield made
    await made.dispose()


async def test_rows_counts_and_ids_as_the_stock_adapter_gives_them(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        many = await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": "b", "n": 2}, {"name": "c", "n": 3}, {"name": "d", "n": 4}],
        )
        assert many.rowcount == 3
        updated = await conn.execute(text("UPDATE t SET n = n * 10 WHERE n >= 3"))
        assert updated.rowcount == 2
        rows = (await conn.execute(text("SELECT name, n FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [("a", 1), ("b", 2), ("c", 30), ("d", 40)]
        assert list((await conn.execute(text("SELECT name AS who FROM t"))).keys()) == ["who"]
        some = await conn.execute(text("SELECT name FROM t ORDER BY id"))
        assert [r.name for r in some.fetchmany()] == ["a"]  # the DBAPI's arraysize, 1
        assert [r.name for r in some.fetchmany(2)] == ["b", "c"]
        empty = await conn.execute(text("SELECT name FROM t WHERE n > 100"))
        assert empty.all() == [] and list(empty.keys()) == ["name"]
        returned = await conn.execute(text("INSERT INTO t (name, n) VALUES ('e', 5) RETURNING id"))
        assert returned.scalar_one() == 5


async def test_a_failed_statement_raises_and_the_transaction_goes_on(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        with pytest.raises(exc.IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        with pytest.raises(exc.OperationalError):
            await conn.execute(text("SELECT nope FROM t"))
        await conn.execute(text("INSERT INTO t (name) VALUES ('b')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2


async def test_streaming_still_reads_in_batches(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": f"p{i}", "n": i} for i in range(250)],
        )
    async with engine.connect() as conn:
        result = await conn.stream(text("SELECT n FROM t ORDER BY n"))
        sizes = [len(part) async for part in result.partitions(100)]
    assert sizes == [100, 100, 50]


async def test_one_trip_to_the_connection_thread_per_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = 0
    handover = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await handover(self, fn, *args, **kwargs)

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            trips = 0
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            assert (await conn.execute(text("SELECT n FROM t"))).scalar_one() == 1
            assert trips == 2
    finally:
        monkeypatch.undo()
        await engine.dispose()


async def test_the_write_lock_is_taken_with_the_first_statement(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE rides along with a transaction's first statement, even a read, so
    writers still queue on the database lock from their first statement on."""
    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with engine.begin() as conn:
            other.execute("BEGIN IMMEDIATE")  # nothing has begun yet: the lock is free
            other.execute("ROLLBACK")
            raw: Any = await conn.get_raw_connection()
            assert await fetch_rows(raw.dbapi_connection, "SELECT count(*) FROM t", ()) == [(0,)]
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert other.execute("SELECT n FROM t").fetchall() == [(1,)]
    finally:
        other.close()
        await engine.dispose()


async def test_a_begin_that_waited_in_vain_is_tried_again(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("PRAGMA busy_timeout = 50"))
        other.execute("BEGIN IMMEDIATE")
        async with engine.connect() as conn:
            with pytest.raises(exc.OperationalError, match="locked"):
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            other.execute("ROLLBACK")
            # Still in its transaction, which now begins with this statement.
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            assert other.in_transaction is False
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await conn.commit()
        assert other.execute("SELECT n FROM t").fetchall() == [(2,)]
    finally:
        other.close()
        await engine.dispose()
