"""What people see of what was sent to them: their messages (a message of the pages with its
words, in the reader's language), the bell's unread count, marking read, the patient's choice
of reminders, and the development outbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from .channels import hint
from .models import Message, MessagePreference
from .outbox import IN_PAGE
from .schemas import MessageOut, MessageSettings, MessagesRead, OutboxMessageOut, UnreadOut
from .service import REMINDERS, reminders_on
from .texts import render


def _mine(me: User) -> Any:
    """The caller's messages: a patient's are those to their phone (the record's)."""
    if me.role == Role.patient:
        return Message.patient_id == me.patient_id if me.patient_id else false()
    return Message.user_id == me.id


async def unread(session: AsyncSession, me: User) -> UnreadOut:
    count = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(_mine(me), Message.sent_at.is_not(None), Message.read_at.is_(None))
    )
    return UnreadOut(count=count or 0)


async def mark_read(
    session: AsyncSession, me: User, data: MessagesRead, now: datetime
) -> UnreadOut:
    """The caller opened these messages; someone else's ids change nothing."""
    await session.execute(
        update(Message)
        .where(_mine(me), Message.id.in_(data.ids), Message.read_at.is_(None))
        .values(read_at=now)
    )
    return await unread(session, me)


async def messages_of(
    session: AsyncSession, me: User, limit: int, *, web_dir: Path
) -> list[MessageOut]:
    """What was sent to the caller (as a patient: to their phone), newest first; a message
    shown in the pages with its words, in the reader's language."""
    mine = _mine(me)
    rows = (
        await session.scalars(
            select(Message)
            .where(mine)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        MessageOut(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            to=hint(row.address),
            created_at=row.created_at,
            due_at=row.next_attempt_at if row.sent_at is None else None,
            sent_at=row.sent_at,
            consultation_id=row.consultation_id,
            read_at=row.read_at,
            text=render(web_dir, row.kind, me.language or row.language, row.params)
            if row.channel == IN_PAGE
            else None,
        )
        for row in rows
    ]


async def settings_of(session: AsyncSession, me: User) -> MessageSettings:
    if me.patient_id is None:
        return MessageSettings(reminders=True)
    return MessageSettings(reminders=await reminders_on(session, me.patient_id))


async def choose(session: AsyncSession, me: User, chosen: MessageSettings) -> MessageSettings:
    """A patient turns reminders on or off; turning them off drops the waiting ones."""
    assert me.patient_id is not None
    row = await session.get(MessagePreference, me.patient_id)
    if row is None:
        session.add(MessagePreference(patient_id=me.patient_id, reminders=chosen.reminders))
    else:
        row.reminders = chosen.reminders
    if not chosen.reminders:
        await session.execute(
            delete(Message).where(
                Message.patient_id == me.patient_id,
                Message.kind.in_(list(REMINDERS)),
                Message.sent_at.is_(None),
            )
        )
    return chosen


async def development_outbox(
    session: AsyncSession, web_dir: Path, limit: int
) -> list[OutboxMessageOut]:
    """Every message with its text, newest first: for trying the service without an SMS
    gateway or a mail server. Served only when TELECONSULT_ENV=development."""
    rows = (
        await session.scalars(
            select(Message).order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
        )
    ).all()
    return [
        OutboxMessageOut(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            to=hint(row.address),
            language=row.language,
            text=render(web_dir, row.kind, row.language, row.params),
            created_at=row.created_at,
            due_at=row.next_attempt_at if row.sent_at is None else None,
            sent_at=row.sent_at,
            attempts=row.attempts,
            last_error=row.last_error,
        )
        for row in rows
    ]
