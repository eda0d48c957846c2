"""The transactional outbox: events written in the transaction of the change that causes
them, and delivered to the bus afterwards by a background task, with retries.

An event is neither lost (it is committed with its change, and stays until delivered) nor
able to turn a committed change into an error (the bus is not touched before the answer).
Delivery is at least once: an event published just before a crash is published again, so
listeners take events as news of a change, never as the change itself. Several processes
share the work: each takes rows no other holds (``SKIP LOCKED`` on PostgreSQL; SQLite's
writers run one at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, utcnow
from ..db.engine import readers
from ..db.uow import after_commit, unit_of_work
from .base import EventBus

log = logging.getLogger("teleconsult.outbox")

NUDGE = "teleconsult.outbox_nudge"
BATCH = 100
PUBLISH_SECONDS = 5.0
IDLE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


class OutboxEvent(Base):
    """An event to publish on the bus once its transaction has committed."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Any] = mapped_column(UTCDateTime, default=utcnow)


# The relay's claim of the oldest events no other process holds, built once: it runs after
# every commit that wrote an event.
_CLAIM = (
    select(OutboxEvent.id, OutboxEvent.channel, OutboxEvent.message)
    .order_by(OutboxEvent.id)
    .limit(BATCH)
    .with_for_update(skip_locked=True)
)


def enqueue(session: AsyncSession, channel: str, message: dict[str, Any]) -> None:
    """Publish ``message`` on ``channel`` once, and only if, this transaction commits."""
    session.add(OutboxEvent(channel=channel, message=json.dumps(message), created_at=utcnow()))
    nudge = session.info.get(NUDGE)
    if nudge is not None:
        after_commit(session, nudge, once=True)


class OutboxRelay:
    """Delivers the outbox to the bus: at once after a commit that wrote to it, and every
    second in case another process or a failed attempt left events behind."""

    def __init__(self, sessions: async_sessionmaker[Any] | None, bus: EventBus) -> None:
        self.sessions = sessions
        self.bus = bus
        self._wake = asyncio.Event()
        # As of the relay's last look: events waiting, and when the oldest was written.
        self.waiting = 0
        self.oldest: datetime | None = None

    @property
    def session_info(self) -> dict[str, Any]:
        """What the app's sessions carry so that :func:`enqueue` wakes this relay."""
        return {NUDGE: self.nudge}

    async def nudge(self) -> None:
        self._wake.set()

    async def deliver(self, *, look_first: bool = True) -> int:
        """Publish what is waiting, oldest first; return how many were delivered.

        ``look_first=False`` after a nudge: a commit has just written an event, so the count
        that spares an empty outbox a write transaction would only cost a round trip."""
        assert self.sessions is not None
        delivered = 0
        while not look_first or await self._waiting():
            look_first = True
            async with unit_of_work(self.sessions) as session:
                rows = (await session.execute(_CLAIM)).all()
                done: list[int] = []
                failure: Exception | None = None
                try:
                    for row in rows:
                        async with asyncio.timeout(PUBLISH_SECONDS):
                            await self.bus.publish(row.channel, json.loads(row.message))
                        done.append(row.id)
                except Exception as exc:
                    failure = exc
                # What was published is removed even when a later one failed.
                if done:
                    await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(done)))
            delivered += len(done)
            if failure is not None:
                raise failure
            if len(rows) < BATCH:
                # Everything not held by another process is delivered (the periodic look
                # counts again).
                self.waiting, self.oldest = 0, None
                break
        return delivered

    async def _waiting(self) -> bool:
        # A look on a reader connection first: an empty outbox costs no write lock (SQLite).
        engine = self.sessions.kw["bind"] if self.sessions is not None else None
        assert isinstance(engine, AsyncEngine)
        async with readers(engine).connect() as conn:
            count, oldest = (
                await conn.execute(select(func.count(), func.min(OutboxEvent.created_at)))
            ).one()
        self.waiting, self.oldest = int(count), oldest
        return self.waiting > 0

    def lag_seconds(self) -> float:
        """How long the oldest undelivered event has waited, as of the relay's last look."""
        if not self.waiting or self.oldest is None:
            return 0.0
        oldest = self.oldest if self.oldest.tzinfo else self.oldest.replace(tzinfo=UTC)
        return max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    async def run(self) -> None:
        """Deliver until cancelled, backing off while the bus is away."""
        backoff = 0.5
        nudged = False
        while True:
            # Cleared before looking, so that a nudge during a delivery brings another.
            self._wake.clear()
            try:
                await self.deliver(look_first=not nudged)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox delivery failed, retrying: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                nudged = False
                continue
            nudged = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    await self._wake.wait()
                    nudged = True
            # A cancel that met the idle timeout can come out as that timeout (Python 3.11):
            # the task's own count of cancel requests says whether it is being stopped.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
