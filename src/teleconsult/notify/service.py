"""Which messages a change sends, to whom, and what people see of what was sent to them.

Booking messages and reminders go to the patient's phone, in the patient's language, with
the time in Kazakhstan's time (UTC+5, the whole country since 2024). Reminders are queued at
booking for 24 hours and 1 hour before the call, dropped when the consultation is cancelled
or the patient turns reminders off; codes cannot be turned off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..patients.models import Patient
from .models import Message, MessagePreference
from .outbox import queue
from .schemas import MessageOut, MessageSettings, OutboxMessageOut
from .texts import render

LOCAL_TIME = timezone(timedelta(hours=5))
REMINDERS = {"reminder_24h": timedelta(hours=24), "reminder_1h": timedelta(hours=1)}
DEFAULT_LANGUAGE = "kk"


@dataclass(frozen=True)
class Contact:
    """How a patient is reached: their phone, the language their messages are written in
    (their account's choice when they have one, else Kazakh), whether they can sign in
    (an active account) and whether they want reminders."""

    phone: str | None
    language: str
    has_account: bool
    reminders: bool


# One statement for everything a change's messages need to know of the patient, built once.
_CONTACT = select(
    Patient.phone,
    select(User.language).where(User.patient_id == Patient.id).limit(1).scalar_subquery(),
    exists().where(User.patient_id == Patient.id, User.is_active),
    select(MessagePreference.reminders)
    .where(MessagePreference.patient_id == Patient.id)
    .scalar_subquery(),
).where(Patient.id == bindparam("patient_id"))


async def patient_contact(session: AsyncSession, patient_id: uuid.UUID) -> Contact:
    row = (await session.execute(_CONTACT, {"patient_id": patient_id})).first()
    if row is None:
        return Contact(None, DEFAULT_LANGUAGE, False, True)
    phone, language, has_account, reminders = row
    return Contact(phone, language or DEFAULT_LANGUAGE, bool(has_account), reminders is not False)


async def reminders_on(session: AsyncSession, patient_id: uuid.UUID) -> bool:
    chosen = await session.get(MessagePreference, patient_id)
    return chosen is None or chosen.reminders


def local_when(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d.%m.%Y %H:%M")


async def consultation_booked(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime | None,
    now: datetime,
    contact: Contact | None = None,
) -> None:
    """The booking's confirmation, and its reminders, to the patient's phone (``contact``:
    :func:`patient_contact`, when the caller has it already)."""
    contact = contact or await patient_contact(session, patient_id)
    if not contact.phone:
        return
    when = {"when": local_when(starts_at)} if starts_at else {"when": "—"}
    common = {
        "channel": "sms",
        "address": contact.phone,
        "language": contact.language,
        "patient_id": patient_id,
        "consultation_id": consultation_id,
        "now": now,
    }
    kind = "booking_confirmed" if starts_at else "case_submitted"
    queue(session, kind=kind, params=when, **common)  # type: ignore[arg-type]
    if starts_at is None or not contact.reminders:
        return
    for reminder, before in REMINDERS.items():
        if starts_at - before > now:
            queue(
                session,
                kind=reminder,
                params=when,
                not_before=starts_at - before,
                **common,  # type: ignore[arg-type]
            )


async def consultation_cancelled(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime | None,
    now: datetime,
) -> None:
    """Its reminders are dropped and the patient told."""
    await session.execute(
        delete(Message).where(
            Message.consultation_id == consultation_id,
            Message.kind.in_(list(REMINDERS)),
            Message.sent_at.is_(None),
        )
    )
    contact = await patient_contact(session, patient_id)
    if contact.phone and starts_at is not None:
        queue(
            session,
            kind="booking_cancelled",
            channel="sms",
            address=contact.phone,
            language=contact.language,
            params={"when": local_when(starts_at)},
            patient_id=patient_id,
            consultation_id=consultation_id,
            now=now,
        )


async def consent_requested(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    consultation_id: uuid.UUID,
    now: datetime,
    contact: Contact | None = None,
) -> None:
    """A patient who can sign in is told a request for their consent waits in their account
    (one who cannot is asked at the clinic, with a code)."""
    contact = contact or await patient_contact(session, patient_id)
    if not contact.has_account or not contact.phone:
        return
    queue(
        session,
        kind="consent_request_waiting",
        channel="sms",
        address=contact.phone,
        language=contact.language,
        params={},
        patient_id=patient_id,
        consultation_id=consultation_id,
        now=now,
    )


def _hint(address: str) -> str:
    """Enough of an address to recognise it: the last digits of a phone, the domain."""
    if "@" in address:
        name, domain = address.split("@", 1)
        return f"{name[:1]}•••@{domain}"
    return f"•••{address[-4:]}"


async def messages_of(session: AsyncSession, me: User, limit: int) -> list[MessageOut]:
    """What was sent to the caller (as a patient: to their phone), newest first."""
    if me.role == Role.patient:
        if me.patient_id is None:
            return []
        mine = Message.patient_id == me.patient_id
    else:
        mine = Message.user_id == me.id
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
            to=_hint(row.address),
            created_at=row.created_at,
            due_at=row.next_attempt_at if row.sent_at is None else None,
            sent_at=row.sent_at,
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
            to=_hint(row.address),
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
