"""Engine creation with the per-dialect settings that keep writes durable and serialised."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ..config import Settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create the async engine.

    On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on
    the database lock instead of failing when a read lock cannot be upgraded, the journal is
    WAL, and ``synchronous=FULL`` makes an acknowledged commit survive a power cut.
    """
    if is_sqlite(url):
        engine = create_async_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=0, pool_timeout=60
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Hand transaction control to us (pysqlite would otherwise BEGIN DEFERRED).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it costs a round trip on every checkout (measured in bench/booking.py);
    # connections are recycled instead, and a request on a broken one fails cleanly.
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )


def engine_from_settings(settings: Settings) -> AsyncEngine:
    if is_sqlite(settings.effective_database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.effective_database_url, pool_size=settings.db_pool_size)


def make_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[Any]:
    """Sessions for units of work; ``info`` is copied into every session's ``info``."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True, info=info)
