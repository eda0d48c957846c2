"""Engine creation with the per-dialect settings that keep writes durable and serialised."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ..config import Settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# Each engine's readers (see :func:`readers`), by the engine they read beside.
_READERS: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create the async engine, and beside it the pool of its :func:`readers`.

    On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on
    the database lock instead of failing when a read lock cannot be upgraded, the journal is
    WAL, and ``synchronous=FULL`` makes an acknowledged commit survive a power cut.
    """
    engine = _create(url, pool_size, echo, reader=False)
    reader = _create(url, pool_size, echo, reader=True)
    _READERS[engine.sync_engine] = reader

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose_readers(_engine: Engine) -> None:
        # Runs inside AsyncEngine.dispose(), where the async drivers' closes can be awaited.
        reader.sync_engine.dispose()

    return engine


def readers(engine: AsyncEngine) -> AsyncEngine:
    """Read-only connections for a read that runs beside a unit of work's own transaction
    (``db.uow.commit_while``).

    A pool of their own, set up for reading: autocommit, each statement on its own
    snapshot, with no BEGIN or ROLLBACK round trips; on SQLite ``query_only`` and without
    ``BEGIN IMMEDIATE``, so a reader reads a WAL snapshot, takes no lock and never waits for
    a writer, nor a writer for it. Being apart, a fetch never queues behind the requests
    waiting for a connection of the writers' pool.
    """
    return _READERS[engine.sync_engine]


def _create(url: str, pool_size: int, echo: bool, *, reader: bool) -> AsyncEngine:
    # Readers skip even the DBAPI rollback on release: in autocommit it has nothing to undo.
    autocommit: dict[str, Any] = (
        {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True} if reader else {}
    )
    if is_sqlite(url):
        engine = create_async_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=60, **autocommit
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Hand transaction control to us (pysqlite would otherwise BEGIN DEFERRED).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if reader:
                cursor.execute("PRAGMA query_only=ON")
            else:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # SQLite's own lower() folds ASCII letters only: names are searched in any
            # script (accounts/directory.py: find_clinicians), as lower() does on PostgreSQL.
            dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)

        if not reader:

            @event.listens_for(engine.sync_engine, "begin")
            def _on_begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it costs a round trip on every checkout (measured in bench/booking.py);
    # connections are recycled instead, and a request on a broken one fails cleanly.
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=0 if reader else pool_size,
        pool_recycle=1800,
        **autocommit,
    )


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def engine_from_settings(settings: Settings) -> AsyncEngine:
    if is_sqlite(settings.effective_database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.effective_database_url, pool_size=settings.db_pool_size)


def make_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[Any]:
    """Sessions for units of work; ``info`` is copied into every session's ``info``."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True, info=info)
