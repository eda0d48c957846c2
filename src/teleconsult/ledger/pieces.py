"""Walking long chains in pieces, side by side, one worker process per core.

Reading a row and walking it costs several times what hashing it does, and the walk holds
the interpreter lock: one process verifies well below hashlib's speed. So a long chain is
cut into consecutive pieces, each read through its own database connection and walked
(:func:`chain.walk_segment`) in a worker process (:mod:`.worker`), and :func:`chain.join`
checks that the pieces meet. Short chains are not worth the hand-over and are walked
where they are read. Workers are started on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url

from . import worker
from .chain import Segment
from .store import entries_sql, key_param
from .tables import Ledger

# PostgreSQL settings of the connections that read pieces (see database_target).
_CHAIN_ORDER = "-c enable_seqscan=off -c enable_bitmapscan=off -c enable_sort=off"

# Below this many entries a chain is walked in one piece by the process that reads it.
MIN_ENTRIES = 2000


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
    # it: these connections only ever read chain ranges, so they are told not to.
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

    A chain of at least ``min_entries`` entries is cut into ``workers`` pieces. The workers
    start on first use, and stop with :meth:`close`; a pool passed in is shared and left
    running.
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
        # How many chains were walked in pieces, and in how many pieces.
        self.chains = 0
        self.pieces = 0
        self._stopped = False

    @property
    def how(self) -> str:
        return f"{self.workers} worker processes"

    @classmethod
    def for_url(cls, database_url: str | URL) -> Pieces | None:
        """Pieces for this database, or None where other processes cannot open it."""
        try:
            return cls(database_url)
        except ValueError:
            return None

    def split(self, last_seq: int) -> list[tuple[int, int]] | None:
        """Consecutive seq ranges covering 1..last_seq, one per worker; None for a chain too
        short to be worth it."""
        if self._stopped or last_seq < max(self.min_entries, 2):
            return None
        size = math.ceil(last_seq / self.workers)
        return [(a, min(a + size - 1, last_seq)) for a in range(1, last_seq + 1, size)]

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = worker_pool(self.workers)
        return self._pool

    async def start(self) -> None:
        """Start the workers and connect each to the database now (else the first walk does)."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        # Every worker takes one task while the others are still busy starting.
        await asyncio.gather(
            *(
                loop.run_in_executor(pool, worker.open_database, self.dialect, self._target)
                for _ in range(self.workers)
            )
        )

    async def walk(
        self, ledger: Ledger, key: str, ranges: list[tuple[int, int]], mark: int = 0
    ) -> list[Segment]:
        """Walk the pieces ``ranges`` of chain ``key`` side by side; their reports in order.
        ``mark`` is the checkpointed seq, whose hash the piece holding it reports."""
        marks = ("?", "?", "?") if self.dialect == "sqlite" else ("$1", "$2", "$3")
        sql = entries_sql(ledger, self.dialect, marks)
        value = key_param(ledger, key, self.dialect)
        loop = asyncio.get_running_loop()
        pool = self._executor()
        walks = [
            loop.run_in_executor(
                pool,
                worker.walk_piece,
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
        segments = list(await asyncio.gather(*walks))
        self.chains += 1
        self.pieces += len(segments)
        return segments

    def stop_using(self) -> None:
        """No more pieces: every chain from now on is walked by the process that reads it."""
        self._stopped = True
        self.close()

    def close(self) -> None:
        if self._pool is not None and self._owned:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


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
