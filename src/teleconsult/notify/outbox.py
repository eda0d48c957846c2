"""The messages outbox: a message is a row written in the transaction of the change that
causes it (a consent request, a booking), and a background relay delivers it afterwards.

Nothing is lost (the row is committed with its change and stays until delivered) and nothing
is sent twice by the relay: a message is claimed by moving its ``next_attempt_at`` a lease
ahead in a committed transaction before it is sent, so no other process takes it meanwhile,
and it is marked sent right after. A process that dies between the two leaves the message to
be tried again after the lease, under the same id, which the provider takes as the same
message. A channel that fails is tried again with a back-off, up to a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..clock import Clock
from ..db.engine import readers
from ..db.uow import after_commit, unit_of_work
from .channels import Channel, DeliveryFailed, Outgoing
from .models import Message
from .texts import render

log = logging.getLogger("teleconsult.notify")

NUDGE = "teleconsult.messages_nudge"
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(days=1)
BATCH = 20
IDLE_SECONDS = 1.0
# The channel of a message shown only in the pages (the bell): delivered by its commit.
IN_PAGE = "page"

# Makes a message's secret at the moment it is sent (a one-time link stored only as its
# hash): the params it adds to the text, or ``None`` when the message is no longer due.
Minter = Callable[[AsyncSession, Message, datetime], Awaitable[dict[str, str] | None]]


def queue(
    session: AsyncSession,
    *,
    kind: str,
    channel: str,
    address: str,
    language: str,
    params: Mapping[str, str],
    secret: tuple[str, ...] = (),
    patient_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    consultation_id: uuid.UUID | None = None,
    now: datetime,
    not_before: datetime | None = None,
) -> Message:
    """Send a message once, and only if, this transaction commits (at ``not_before`` if
    given: a reminder). ``secret`` names the params wiped once it is delivered.

    A message on the ``page`` channel is delivered by its commit: its recipient reads it in
    the service (``GET /me/messages``), so the relay never takes it."""
    message = Message(
        id=uuid.uuid4(),
        kind=kind,
        channel=channel,
        address=address,
        language=language,
        params=dict(params),
        secret_params=list(secret),
        patient_id=patient_id,
        user_id=user_id,
        consultation_id=consultation_id,
        created_at=now,
        next_attempt_at=not_before or now,
        attempts=0,
        sent_at=now if channel == IN_PAGE else None,
    )
    session.add(message)
    nudge = session.info.get(NUDGE)
    if nudge is not None:
        after_commit(session, nudge, once=True)
    return message


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class MessageRelay:
    """Delivers due messages on their channels: at once after a commit that queued one, and
    every second for retries and reminders."""

    def __init__(
        self,
        sessions: async_sessionmaker[Any] | None,
        channels: Mapping[str, Channel],
        clock: Clock,
        web_dir: Path,
        minters: Mapping[str, Minter] | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = dict(channels)
        self.minters = dict(minters or {})
        self.clock = clock
        self.web_dir = web_dir
        self._wake = asyncio.Event()

    @property
    def session_info(self) -> dict[str, Any]:
        return {NUDGE: self.nudge}

    async def nudge(self) -> None:
        self._wake.set()

    def _due(self, now: datetime) -> Any:
        return (
            Message.sent_at.is_(None),
            Message.next_attempt_at <= now,
            Message.channel.in_(list(self.channels)),
        )

    async def _any_due(self, now: datetime) -> bool:
        # A look on a reader connection first: nothing due costs no write lock (SQLite).
        engine = self.sessions.kw["bind"] if self.sessions is not None else None
        assert isinstance(engine, AsyncEngine)
        async with readers(engine).connect() as conn:
            found = await conn.scalar(select(Message.id).where(*self._due(now)).limit(1))
        return found is not None

    async def _claim(self) -> list[Message]:
        assert self.sessions is not None
        now = self.clock.now()
        if not self.channels or not await self._any_due(now):
            return []
        async with unit_of_work(self.sessions) as session:
            rows = list(
                (
                    await session.scalars(
                        select(Message)
                        .where(*self._due(now))
                        .order_by(Message.next_attempt_at)
                        .limit(BATCH)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            for row in rows:
                row.next_attempt_at = now + LEASE
                row.attempts += 1
        return rows

    async def deliver(self) -> int:
        """Send what is due; return how many were delivered."""
        assert self.sessions is not None
        delivered = 0
        while rows := await self._claim():
            for row in rows:
                params = dict(row.params)
                minted: dict[str, str] | None = None
                minter = self.minters.get(row.kind)
                if minter is not None:
                    async with unit_of_work(self.sessions) as session:
                        minted = await minter(session, row, self.clock.now())
                    if minted is None:
                        await self._withdraw(row)
                        continue
                    params |= minted  # never stored: only the text carries it
                secrets = [params[k] for k in row.secret_params if k in params]
                outgoing = Outgoing(
                    id=str(row.id),
                    address=row.address,
                    subject=render(self.web_dir, "subject", row.language, {}),
                    text=render(self.web_dir, row.kind, row.language, params),
                    secrets=(*secrets, *(minted or {}).values()),
                )
                error: str | None = None
                channel = self.channels[row.channel]
                try:
                    await channel.send(outgoing)
                except DeliveryFailed as exc:
                    error = str(exc)
                await self._record(row, error, wipe=not getattr(channel, "keeps_secrets", False))
                delivered += error is None
            if len(rows) < BATCH:
                break
        return delivered

    async def _withdraw(self, claimed: Message) -> None:
        """A message whose occasion passed (the call closed, the invitation withdrawn)."""
        assert self.sessions is not None
        async with unit_of_work(self.sessions) as session:
            row = await session.get(Message, claimed.id)
            if row is not None:
                row.next_attempt_at = self.clock.now() + timedelta(days=3650)
                row.last_error = "no longer due"

    async def _record(self, claimed: Message, error: str | None, *, wipe: bool) -> None:
        assert self.sessions is not None
        now = self.clock.now()
        async with unit_of_work(self.sessions) as session:
            row = await session.get(Message, claimed.id)
            if row is None:
                return
            if error is None:
                row.sent_at = now
                row.last_error = None
                # A delivered code or link is not kept.
                if wipe:
                    row.params = {k: v for k, v in row.params.items() if k not in row.secret_params}
            elif now - row.created_at > GIVE_UP_AFTER:
                row.next_attempt_at = now + timedelta(days=3650)
                row.last_error = f"gave up: {error}"[:200]
            else:
                row.next_attempt_at = now + _backoff(row.attempts)
                row.last_error = error[:200]
        if error is not None:
            log.warning("message delivery failed (%s), will retry: %s", claimed.channel, error)

    async def run(self) -> None:
        """Deliver until cancelled (nothing to do without a channel)."""
        if not self.channels:
            return
        while True:
            self._wake.clear()
            try:
                await self.deliver()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("message relay failed, retrying: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    await self._wake.wait()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError

    async def close(self) -> None:
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                await close()
