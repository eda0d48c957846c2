"""The worker side of :mod:`.pieces`: the walk of one piece, over the worker's own connection.

It imports only the walk, the column checks and the stock drivers (``sqlite3``,
``asyncpg``), so that workers start fast.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from .bindings import BINDINGS
from .chain import Segment, walk_segment

Reader = Callable[[str, tuple[Any, ...]], Sequence[Sequence[Any]]]
# One connection per database this worker has read from, kept for the next piece.
_readers: dict[tuple[str, str], Reader] = {}


def _connect(dialect: str, target: str) -> Reader:
    """A reader over a new connection: ``target`` is a SQLite file path or a PostgreSQL DSN."""
    if dialect == "sqlite":
        conn = sqlite3.connect(target, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")

        def read_sqlite(sql: str, params: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
            return conn.execute(sql, params).fetchall()

        return read_sqlite

    import asyncpg

    loop = asyncio.new_event_loop()
    pg = loop.run_until_complete(asyncpg.connect(target))

    def read_postgres(sql: str, params: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
        return loop.run_until_complete(pg.fetch(sql, *params))

    return read_postgres


def open_database(dialect: str, target: str) -> None:
    """Connect now, so that the first piece does not pay for it."""
    if (dialect, target) not in _readers:
        _readers[dialect, target] = _connect(dialect, target)


def walk_piece(
    dialect: str,
    target: str,
    ledger: str,
    key: str,
    sql: str,
    params: tuple[Any, ...],
    start: int,
    mark: int,
) -> Segment:
    """Read one piece of a chain and walk it; :func:`chain.join` links it to the others."""
    open_database(dialect, target)
    rows = _readers[dialect, target](sql, params)
    return walk_segment(rows, start, None, mark, BINDINGS[ledger](key, dialect == "sqlite"))
