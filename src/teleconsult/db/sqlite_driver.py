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
from collections.abc import Sequence
from typing import Any

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

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

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No cursor is opened here: that would be a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        return self._lastrowid

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        aioconn: Any = self._connection
        async with self._adapt_connection._execute_mutex:
            # aiosqlite's own hand-over: run a function in the connection's thread.
            outcome: _Outcome = await aioconn._execute(
                lambda: _run(aioconn._conn, operation, parameters, many)
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
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for ``create_async_engine(module=...)``."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        # SQLAlchemy's own connect (thread set-up and all), then our statements over it.
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)


def dbapi() -> OneTripDBAPI:
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
