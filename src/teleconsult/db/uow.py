"""The unit of work: one transaction per request, committed or rolled back in one place.

Services receive the session and never commit. Some records must outlive a failed request
(a failed login attempt, an audit entry for a denied access): services register them with
:func:`on_rollback`, and they are written in a fresh transaction after the rollback. A read
that must be preceded by a durable record (a passport read by its consent decision's audit
entry) commits it with :func:`commit_while`, while it fetches on a reader connection.
A write to a row every transaction shares (a statistics rollup) is left to the end with
:func:`before_commit`, so that its lock is held for one round trip and the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from .engine import readers

T = TypeVar("T")

RollbackHook = Callable[[AsyncSession], Awaitable[None]]

CommitHook = Callable[[], Awaitable[None]]

log = logging.getLogger("teleconsult.db")

_HOOKS = "teleconsult.on_rollback"
_AFTER_COMMIT = "teleconsult.after_commit"
_BEFORE_COMMIT = "teleconsult.before_commit"


def on_rollback(session: AsyncSession, hook: RollbackHook) -> None:
    """Run ``hook`` in its own committed transaction if this unit of work rolls back."""
    session.info.setdefault(_HOOKS, []).append(hook)


def after_commit(session: AsyncSession, hook: CommitHook, *, once: bool = False) -> None:
    """Run ``hook`` once this unit of work has committed (e.g. publish an event).

    With ``once``, a hook already registered in this transaction is not added again.
    """
    hooks = session.info.setdefault(_AFTER_COMMIT, [])
    if not (once and hook in hooks):
        hooks.append(hook)


def before_commit(session: AsyncSession, hook: RollbackHook) -> None:
    """Run ``hook`` as the transaction's last work, just before it commits; once, however
    often it is registered. For writes to rows that many transactions share: their row
    locks are then held from the last statement to the commit, not for the whole request."""
    hooks = session.info.setdefault(_BEFORE_COMMIT, [])
    if hook not in hooks:
        hooks.append(hook)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[Any], *, read_only: bool = False
) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit when the block succeeds, roll back (then run hooks) when not.

    ``read_only`` work on PostgreSQL runs in autocommit: no BEGIN and COMMIT round trips,
    which are half the database traffic of a simple read (measured in bench/stats.py).
    SQLite keeps its transaction: its writers' lock makes the difference moot there.
    """
    async with sessionmaker() as session:
        if read_only and session.bind is not None and session.bind.dialect.name != "sqlite":
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        try:
            yield session
            await _commit(session)
        except BaseException:
            hooks: list[RollbackHook] = session.info.pop(_HOOKS, [])
            session.info.pop(_AFTER_COMMIT, None)
            session.info.pop(_BEFORE_COMMIT, None)
            await session.rollback()
            if hooks:
                async with sessionmaker() as durable:
                    for hook in hooks:
                        await hook(durable)
                    await _commit_or_discard(durable)
            raise


async def in_own_transaction(
    session: AsyncSession, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run ``work`` in a transaction of its own, committed before this returns, whatever the
    unit of work of ``session`` does afterwards (e.g. a sign-in attempt counted before its
    password is checked). Call it before the unit of work writes: on SQLite the two would
    otherwise wait for each other's lock.
    """
    bind = session.bind
    assert isinstance(bind, AsyncEngine), "a unit of work's session is bound to its engine"
    async with AsyncSession(bind, expire_on_commit=False) as own:
        try:
            result = await work(own)
        except BaseException:
            await own.rollback()
            raise
        await _commit_or_discard(own)
    return result


async def commit_while(
    session: AsyncSession,
    read: Callable[[AsyncConnection], Awaitable[T]],
    *,
    first: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Commit the unit of work's transaction now (after writing ``first``, if given) and, at
    the same time, run ``read`` on a reader connection (``db.engine.readers``); return what
    it read once both have finished, and only if the commit succeeded.

    For a read that may only be answered once a record of it is durable (a passport read
    and its audited consent decision): the record no longer waits for the fetch, nor the
    fetch for the commit (on SQLite, a WAL snapshot read beside the writer's fsync). If the
    commit fails, the read's result is dropped and the commit's error raised, so the unit of
    work rolls back as for any failure. After a successful commit the unit of work goes on
    in a new transaction (empty, unless the caller writes more).
    """
    bind = session.bind
    assert isinstance(bind, AsyncEngine), "a unit of work's session is bound to its engine"

    async def fetch() -> T:
        async with readers(bind).connect() as conn:
            return await read(conn)

    async def write_and_commit() -> None:
        if first is not None:
            await first()
        await _commit(session)

    committed, fetched = await asyncio.gather(write_and_commit(), fetch(), return_exceptions=True)
    if isinstance(committed, BaseException):
        raise committed
    if isinstance(fetched, BaseException):
        raise fetched
    return fetched


async def _commit(session: AsyncSession) -> None:
    await _commit_or_discard(session)
    # The records kept for a rollback are in the committed transaction: none is kept again.
    session.info.pop(_HOOKS, None)
    await _run_commit_hooks(session.info.pop(_AFTER_COMMIT, []))


async def _commit_or_discard(session: AsyncSession) -> None:
    # Hooks may register more (none does today): each runs once.
    while hooks := session.info.pop(_BEFORE_COMMIT, None):
        for hook in hooks:
            await hook(session)
    try:
        await session.commit()
    except BaseException:
        # A failed COMMIT can leave the connection inside its transaction (SQLite keeps it
        # open when a deferred constraint fails), yet it would go back to the pool as if
        # ended: it is discarded instead.
        await session.invalidate()
        raise


async def _run_commit_hooks(hooks: list[CommitHook]) -> None:
    # The transaction has committed: nothing after it may turn the answer into an error (a
    # client would retry a write that was made). Every hook runs; a failure is logged. Events
    # that must not be lost go through the outbox (bus/outbox.py), written in the transaction.
    for hook in hooks:
        try:
            await hook()
        except Exception as exc:
            log.warning("after-commit hook failed: %s", type(exc).__name__)
