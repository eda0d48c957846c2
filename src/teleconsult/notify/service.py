"""Which messages a change sends, to whom, and what people see of what was sent to them.

Booking messages and reminders go to the patient's phone, in the patient's language, with
the time in Kazakhstan's time (UTC+5, the whole country since 2024). Reminders are queued at
booking for 24 hours and 1 hour before the call, queued again for the new time when the call
is moved, dropped when the consultation is cancelled or the patient turns reminders off;
codes cannot be turned off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..patients.models import Patient
from .channels import hint
from .models import Message, MessagePreference
from .outbox import IN_PAGE, queue
from .texts import term

LOCAL_TIME = timezone(timedelta(hours=5))
REMINDERS = {"reminder_24h": timedelta(hours=24), "reminder_1h": timedelta(hours=1)}
# "The call is open now", with a one-time link minted when it is sent (calls/links.py).
CALL_OPEN = "call_open"
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


def in_page(
    session: AsyncSession,
    *,
    kind: str,
    user_id: uuid.UUID,
    params: dict[str, str],
    consultation_id: uuid.UUID | None,
    now: datetime,
    language: str = DEFAULT_LANGUAGE,
) -> Message:
    """A message shown only in the pages (the bell): delivered by its commit, its words
    written out in the reader's language when read (``messages_of``)."""
    return queue(
        session,
        kind=kind,
        channel=IN_PAGE,
        address="",
        language=language,
        params=params,
        user_id=user_id,
        consultation_id=consultation_id,
        now=now,
    )


async def consultation_booked(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime | None,
    now: datetime,
    staff: tuple[uuid.UUID | None, ...] = (),
    contact: Contact | None = None,
) -> None:
    """The booking's confirmation, and its reminders, to the patient's phone (``contact``:
    :func:`patient_contact`, when the caller has it already); a video call's booking also in
    the pages of its GP and specialist (``staff``)."""
    if starts_at is not None:
        for user_id in dict.fromkeys(u for u in staff if u is not None):
            in_page(
                session,
                kind="booked",
                user_id=user_id,
                params={"when": local_when(starts_at)},
                consultation_id=consultation_id,
                now=now,
            )
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
    if starts_at is not None and contact.reminders:
        _queue_reminders(session, common, starts_at, when)


def _queue_reminders(
    session: AsyncSession, common: dict[str, Any], starts_at: datetime, when: dict[str, str]
) -> None:
    """The reminders of a call at ``starts_at`` still ahead (``common``: the patient's phone,
    language, ids and ``now``); the caller has asked whether the patient wants them."""
    for reminder, before in REMINDERS.items():
        if starts_at - before > common["now"]:
            queue(session, kind=reminder, params=when, not_before=starts_at - before, **common)


async def _drop_reminders(session: AsyncSession, consultation_id: uuid.UUID) -> None:
    await session.execute(
        delete(Message).where(
            Message.consultation_id == consultation_id,
            Message.kind.in_(list(REMINDERS)),
            Message.sent_at.is_(None),
        )
    )


async def consultation_moved(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    patient_id: uuid.UUID,
    was: datetime,
    starts_at: datetime,
    opens_at: datetime,
    now: datetime,
    staff: tuple[uuid.UUID | None, ...] = (),
) -> None:
    """A booked call moved to another time: the reminders of the old time are dropped and
    those of the new one queued, a waiting "the call is open" follows the call, the patient
    is told by SMS and its GP and specialist in the pages (``staff``)."""
    params = {"was": local_when(was), "when": local_when(starts_at)}
    for user_id in dict.fromkeys(u for u in staff if u is not None):
        in_page(
            session,
            kind="moved",
            user_id=user_id,
            params=params,
            consultation_id=consultation_id,
            now=now,
        )
    await _drop_reminders(session, consultation_id)
    await session.execute(
        update(Message)
        .where(
            Message.consultation_id == consultation_id,
            Message.kind == CALL_OPEN,
            Message.sent_at.is_(None),
        )
        .values(next_attempt_at=max(opens_at, now))
    )
    contact = await patient_contact(session, patient_id)
    if not contact.phone:
        return
    common: dict[str, Any] = {
        "channel": "sms",
        "address": contact.phone,
        "language": contact.language,
        "patient_id": patient_id,
        "consultation_id": consultation_id,
        "now": now,
    }
    queue(session, kind="booking_moved", params=params, **common)
    if contact.reminders:
        _queue_reminders(session, common, starts_at, {"when": params["when"]})


async def consultation_cancelled(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime | None,
    now: datetime,
) -> None:
    """Its reminders (and a waiting "the call is open") are dropped and the patient told."""
    await session.execute(
        delete(Message).where(
            Message.consultation_id == consultation_id,
            Message.kind.in_([*REMINDERS, CALL_OPEN]),
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


async def call_opening(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    patient_id: uuid.UUID,
    opens_at: datetime,
    base_url: str,
    now: datetime,
) -> bool:
    """The invited patient is sent "the call is open now" by SMS when the call's window
    opens, with a one-time link to join from the phone (minted only as it is sent). It needs
    the patient's account (the call knows people by their accounts: one without a password
    is made for a patient who has none, ``accounts/guests.py``) and a phone; ``False`` when
    there is none."""
    await call_opening_withdrawn(session, consultation_id)
    account = await session.scalar(
        select(User.id).where(User.patient_id == patient_id, User.is_active).limit(1)
    )
    contact = await patient_contact(session, patient_id)
    if account is None or not contact.phone:
        return False
    queue(
        session,
        kind=CALL_OPEN,
        channel="sms",
        address=contact.phone,
        language=contact.language,
        params={"base": base_url},
        patient_id=patient_id,
        user_id=account,
        consultation_id=consultation_id,
        now=now,
        not_before=max(opens_at, now),
    )
    return True


async def call_opening_to(session: AsyncSession, consultation_id: uuid.UUID) -> str | None:
    """The phone "the call is open now" goes (or went) to for this consultation, if any."""
    return await session.scalar(
        select(Message.address)
        .where(Message.consultation_id == consultation_id, Message.kind == CALL_OPEN)
        .order_by(Message.created_at.desc(), Message.id)
        .limit(1)
    )


async def call_opening_withdrawn(session: AsyncSession, consultation_id: uuid.UUID) -> None:
    """The patient is no longer invited: a "call is open" not yet sent is dropped."""
    await session.execute(
        delete(Message).where(
            Message.consultation_id == consultation_id,
            Message.kind == CALL_OPEN,
            Message.sent_at.is_(None),
        )
    )


async def case_answered(
    session: AsyncSession, *, consultation_id: uuid.UUID, requester_id: uuid.UUID, now: datetime
) -> None:
    """The GP who sent an async case is told its answer arrived: in the pages, and by
    e-mail (else SMS) when their account has an address. No patient data in the text."""
    params = {"when": local_when(now)}
    in_page(
        session,
        kind="case_answered",
        user_id=requester_id,
        params=params,
        consultation_id=consultation_id,
        now=now,
    )
    gp = await session.get(User, requester_id)
    if gp is None:
        return
    for channel, address in (("email", gp.email), ("sms", gp.phone)):
        if address:
            queue(
                session,
                kind="case_answered",
                channel=channel,
                address=address,
                language=gp.language or DEFAULT_LANGUAGE,
                params=params,
                user_id=gp.id,
                consultation_id=consultation_id,
                now=now,
            )
            return


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


async def reading_off_target(
    session: AsyncSession,
    *,
    gp_ids: set[uuid.UUID],
    facility_id: uuid.UUID | None,
    patient_name: str,
    measure: str,
    value: str,
    reason: str,
    count: int,
    now: datetime,
) -> None:
    """A measurement outside its programme's target, told to the GPs who enrolled the patient
    (active GPs of the enrolment's facility), in each GP's language, in the service: the
    message names the patient and the value to the GP; nothing of it is logged. A run of
    readings outside the target (``programmes/rules.py: missed``) says how many."""
    if not gp_ids:
        return
    gps = await session.execute(
        select(User.id, User.language).where(
            User.id.in_(gp_ids),
            User.role == Role.gp,
            User.is_active.is_(True),
            User.facility_id == facility_id,
        )
    )
    kind = "reading_off_target_run" if reason == "run" else "reading_off_target"
    params = {
        "patient": patient_name,
        "measure": term(f"followup.measure.{measure}"),
        "value": value,
        "count": str(count),
    }
    for gp_id, language in gps:
        in_page(
            session,
            kind=kind,
            user_id=gp_id,
            params=params,
            consultation_id=None,
            now=now,
            language=language or DEFAULT_LANGUAGE,
        )


@dataclass(frozen=True)
class Reach:
    """The channels a message can take here (``available``, the development console
    included) and those that really leave the service (``real``)."""

    available: frozenset[str]
    real: frozenset[str]


@dataclass(frozen=True)
class LinkSent:
    channel: str
    to: str
    # Whether it left the service (else only the development console has it).
    delivered: bool


async def link_sent(
    session: AsyncSession,
    user: User,
    *,
    kind: str,
    link: str,
    reach: Reach,
    now: datetime,
) -> LinkSent | None:
    """Send a one-time link (an invitation, a password reset) to the person it is for, in
    their language: a patient by SMS to the phone on their record, else by e-mail; staff by
    e-mail, else by SMS. The link is wiped from the message once delivered; ``None`` when no
    channel reaches the person."""
    phone = user.phone
    if user.patient_id is not None:
        phone = await session.scalar(select(Patient.phone).where(Patient.id == user.patient_id))
    choices = [("sms", phone), ("email", user.email)]
    if user.patient_id is None:
        choices.reverse()
    for channel, address in choices:
        if address and channel in reach.available:
            queue(
                session,
                kind=kind,
                channel=channel,
                address=address,
                language=user.language or DEFAULT_LANGUAGE,
                params={"link": link, "username": user.username},
                secret=("link",),
                patient_id=user.patient_id,
                user_id=user.id,
                now=now,
            )
            return LinkSent(channel, hint(address), channel in reach.real)
    return None
