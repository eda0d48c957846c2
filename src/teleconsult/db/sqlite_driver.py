"""SQLAlchemy's aiosqlite driver, with one trip to the database thread per statement.

aiosqlite runs each SQLite connection in a thread of its own, and every call into it is a
hand-over to that thread and back (a queue put, a wake-up of the event loop). SQLAlchemy's
adapter makes four such calls per statement: open a cursor, execute, fetch the rows, close
the cursor. Here the four run in one call: a unit of work that decides, audits and commits
makes a quarter of the hand-overs, and a passport read is some 2 ms faster on SQLite
(bench/passport.py). Everything else (connections, transactions, server-side cursors for
streaming) is SQLAlchemy's own adapter, unchanged.

Used by :func:`db.engine.make_engine` for ``sqlite+aiosqlite`` URLs through
``create_async_engine(module=...)``, SQLAlchemy's documented hook for another DBAPI module.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

T = TypeVar("T")

# What a statement leaves behind: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the connection's thread: the whole statement, from cursor to closed cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statement runs in one trip; it holds no aiosqlite cursor,
    only what the statement left behind."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No cursor is opened here: that would be a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1  # the DBAPI's default for fetchmany() without a size

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        return self._lastrowid

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        outcome: _Outcome = await in_connection(
            self._adapt_connection, lambda conn: _run(conn, operation, parameters, many)
        )
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._trip(operation, seq_of_parameters, many=True)

    async def _async_soft_close(self) -> None:
        return None  # the statement's cursor closed in its own trip

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """A connection whose transaction begins with its first statement, in the same trip."""

    __slots__ = ("pending_begin",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None

    def begin_with_next_statement(self, begin: str) -> None:
        """Start a transaction with ``begin`` (``BEGIN IMMEDIATE``), sent in the trip of the
        transaction's first statement rather than in a trip of its own."""
        self.pending_begin = begin

    def commit(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None  # no statement ran: nothing began, nothing to commit
            return
        super().commit()

    def rollback(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        super().rollback()


async def in_connection(adapted: Any, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` with the sqlite3 connection itself, in its own thread, in one trip: for a
    few statements where the later ones depend on what the first ones found. Inside the
    connection's transaction, begun first if ``work`` holds the transaction's first
    statements. ``work`` must be plain blocking code: it runs away from the event loop."""
    if not isinstance(adapted, OneTripConnection):
        raise TypeError("a connection of the one-trip driver (db.engine's SQLite engines)")
    aioconn: Any = adapted._connection
    async with adapted._execute_mutex:
        begin, adapted.pending_begin = adapted.pending_begin, None

        def begun(conn: sqlite3.Connection) -> T:
            if begin is not None:
                conn.execute(begin)
            return work(conn)

        try:
            # aiosqlite's own hand-over: run a function in the connection's thread.
            return cast(T, await aioconn._execute(begun, aioconn._conn))
        except BaseException:
            if begin is not None and not aioconn._conn.in_transaction:
                adapted.pending_begin = begin  # the BEGIN itself failed: nothing began
            raise


async def fetch_rows(
    adapted: Any, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> list[Any]:
    """Rows exactly as sqlite3 returns them (no SQLAlchemy result around them), for code that
    reads by the thousand; on a :class:`OneTripConnection` in one trip, and inside the
    connection's transaction even when it is the transaction's first statement."""
    if isinstance(adapted, OneTripConnection):
        return await in_connection(adapted, lambda conn: _run(conn, sql, parameters, False)[3])
    return list(await adapted.driver_connection.execute_fetchall(sql, parameters))


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for ``create_async_engine(module=...)``."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        # SQLAlchemy's own connect (thread set-up and all), then our statements over it.
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)


def dbapi() -> OneTripDBAPI:
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
