"""The unit of work: one transaction per request, committed or rolled back in one place.

Services receive the session and never commit. Some records must outlive a failed request
(a failed login attempt, an audit entry for a denied access): services register them with
:func:`on_rollback`, and they are written in a fresh transaction after the rollback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

RollbackHook = Callable[[AsyncSession], Awaitable[None]]

CommitHook = Callable[[], Awaitable[None]]

_HOOKS = "teleconsult.on_rollback"
_AFTER_COMMIT = "teleconsult.after_commit"


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
            await session.commit()
            await _run_commit_hooks(session.info.pop(_AFTER_COMMIT, []))
        except BaseException:
            hooks: list[RollbackHook] = session.info.pop(_HOOKS, [])
            session.info.pop(_AFTER_COMMIT, None)
            await session.rollback()
            if hooks:
                async with sessionmaker() as durable:
                    for hook in hooks:
                        await hook(durable)
                    await durable.commit()
            raise


async def _run_commit_hooks(hooks: list[CommitHook]) -> None:
    # Every hook runs even if an earlier one fails (one failed publish must not keep a
    # cache from being invalidated); the first failure is raised afterwards.
    failure: BaseException | None = None
    for hook in hooks:
        try:
            await hook()
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
