"""Walking long chains in pieces, side by side, one per core.

For entries of a few hundred bytes, hashlib holds the interpreter lock, and reading a row
costs about as much as hashing it: one process verifies at about a third of the speed at
which hashlib alone hashes the same bytes. So a long chain is cut into consecutive pieces,
each read through its own database connection and walked (:func:`chain.walk_segment`), and
:func:`chain.join` checks that the pieces meet. Short chains are not worth the hand-over
and are walked where they are read.

Where the compiled check is built (:mod:`.fastwalk`), the pieces are checked in threads of
this process; a piece it does not pass is walked again in Python, to name the bad entry.
Without it each piece is walked in a worker process. Workers are started on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url

from . import fastwalk, piece_worker
from .chain import Segment
from .ledger import Ledger, entries_sql, key_param, parts_sql

# PostgreSQL settings of the connections that read pieces (see database_target).
_CHAIN_ORDER = "-c enable_seqscan=off -c enable_bitmapscan=off -c enable_sort=off"

# Below this many entries a chain is walked in one piece by the process that reads it.
MIN_ENTRIES = 2000

T = TypeVar("T")


def database_target(database_url: str | URL) -> tuple[str, str]:
    """(dialect, what another connection opens): a SQLite file's path, or a libpq
    connection string. ValueError for a database no other connection can open."""
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("pieces need a database file that other processes can open")
        return dialect, url.database
    # A chain is read in seq order through its (key, seq) index. Once a chain fills most of
    # a table with fresh statistics, the planner would rather scan the whole table and sort
    # it, which made a verify some 15% slower (bench/passport.py): these connections only
    # ever read chain ranges, so they are told not to.
    given = url.query.get("options") or ()
    options = " ".join([*([given] if isinstance(given, str) else given), _CHAIN_ORDER])
    url = url.set(drivername="postgresql").difference_update_query(["options"])
    base = url.render_as_string(hide_password=False)
    # Spaces as %20: libpq reads no '+' for a space in a URI.
    return dialect, f"{base}{'&' if url.query else '?'}options={quote(options)}"


def worker_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for :class:`Pieces`, one per core unless told otherwise."""
    # Spawned: a fresh interpreter, with nothing of this process's event loop or connections.
    return ProcessPoolExecutor(workers or os.cpu_count() or 1, mp_context=get_context("spawn"))


class Pieces:
    """Walks the pieces of long chains side by side, in worker processes.

    The workers start on first use, and stop with :meth:`close`; a pool passed in is
    shared and left running.
    """

    def __init__(
        self,
        database_url: str | URL,
        workers: int | None = None,
        min_entries: int = MIN_ENTRIES,
        pool: ProcessPoolExecutor | None = None,
    ) -> None:
        self.dialect, self._target = database_target(database_url)
        self.workers = workers or os.cpu_count() or 1
        self.min_entries = min_entries
        self._pool = pool
        self._owned = pool is None
        # How many chains were walked in pieces, and in how many pieces; how many short
        # chains the compiled check was given whole.
        self.chains = 0
        self.pieces = 0
        self.short_chains = 0
        self._stopped = False
        # Checked in this process's threads, by the compiled check (worker processes then
        # only walk the pieces it did not pass).
        self.compiled = fastwalk.available(self.dialect)
        self._threads: ThreadPoolExecutor | None = None
        self._parts_sql: dict[str, str] = {}  # the compiled check's query, by ledger

    @property
    def how(self) -> str:
        if self.compiled:
            return f"compiled check, {self.workers} threads"
        return f"{self.workers} worker processes"

    @classmethod
    def for_url(cls, database_url: str | URL) -> Pieces | None:
        """Pieces for this database, or None where other processes cannot open it."""
        try:
            return cls(database_url)
        except ValueError:
            return None

    def split(self, last_seq: int) -> list[tuple[int, int]] | None:
        """Consecutive seq ranges covering 1..last_seq, one per worker (or thread); None for a
        chain too short to be worth it."""
        if self._stopped or last_seq < max(self.min_entries, 2):
            return None
        size = math.ceil(last_seq / self.workers)
        return [(a, min(a + size - 1, last_seq)) for a in range(1, last_seq + 1, size)]

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = worker_pool(self.workers)
        return self._pool

    async def start(self) -> None:
        """Start the workers and connect each to the database now (else the first walk does);
        with the compiled check there is nothing to start."""
        if self.compiled:
            return
        loop = asyncio.get_running_loop()
        pool = self._executor()
        # Every worker takes one task while the others are still busy starting.
        await asyncio.gather(
            *(
                loop.run_in_executor(pool, piece_worker.open_database, self.dialect, self._target)
                for _ in range(self.workers)
            )
        )

    async def walk(
        self, ledger: Ledger, key: str, ranges: list[tuple[int, int]], mark: int = 0
    ) -> list[Segment]:
        """Walk the pieces ``ranges`` of chain ``key`` side by side; their reports in order."""
        found: list[Segment | None] = [None] * len(ranges)
        if self.compiled:
            found = await self._check(ledger, key, ranges, mark)
        failed = [r for r, segment in zip(ranges, found, strict=True) if segment is None]
        walked = iter(await self._walk_in_workers(ledger, key, failed, mark) if failed else [])
        segments = [segment if segment is not None else next(walked) for segment in found]
        self.chains += 1
        self.pieces += len(segments)
        return segments

    async def _check(
        self, ledger: Ledger, key: str, ranges: list[tuple[int, int]], mark: int
    ) -> list[Segment | None]:
        """The compiled check of each piece, in threads: a segment where it passed."""
        return list(
            await asyncio.gather(
                *(
                    self.in_thread(self.check, ledger, key, first, last, mark)
                    for first, last in ranges
                )
            )
        )

    def check(
        self, ledger: Ledger, key: str, first: int, last: int, mark: int = 0
    ) -> Segment | None:
        """The compiled check of entries ``first``..``last`` of one chain (blocking: run it
        :meth:`in_thread`); None where it did not pass, or is not built."""
        return fastwalk.walk(
            self.dialect,
            self._target,
            self._sql(ledger),
            ledger.name,
            key,
            key_param(ledger, key, self.dialect),
            first,
            last,
            mark,
        )

    def _sql(self, ledger: Ledger) -> str:
        sql = self._parts_sql.get(ledger.name)
        if sql is None:
            sql = self._parts_sql[ledger.name] = parts_sql(ledger, self.dialect)
        return sql

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in one of the threads that run the compiled check."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="verify")
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    async def _walk_in_workers(
        self, ledger: Ledger, key: str, ranges: list[tuple[int, int]], mark: int
    ) -> list[Segment]:
        sql = entries_sql(ledger, self.dialect)
        value = key_param(ledger, key, self.dialect)
        loop = asyncio.get_running_loop()
        pool = self._executor()
        walks = [
            loop.run_in_executor(
                pool,
                piece_worker.walk_piece,
                self.dialect,
                self._target,
                ledger.name,
                key,
                sql,
                (value, first, last),
                first,
                mark,
            )
            for first, last in ranges
        ]
        return list(await asyncio.gather(*walks))

    def stop_using(self) -> None:
        """No more pieces: every chain from now on is walked by the process that reads it."""
        self._stopped = True
        self.close()

    def close(self) -> None:
        if self._pool is not None and self._owned:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=True)
            self._threads = None


@contextlib.asynccontextmanager
async def pieces_for(database_url: str | URL) -> AsyncIterator[Pieces | None]:
    """Pieces for a command's run over this database (None where workers cannot open it);
    their workers stop when the run ends."""
    pieces = Pieces.for_url(database_url)
    try:
        yield pieces
    finally:
        if pieces is not None:
            await asyncio.to_thread(pieces.close)
