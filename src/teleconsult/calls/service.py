"""Who may join a call and when; one-time tickets; join and leave times."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts import guests
from ..accounts.models import User
from ..audit.service import record
from ..bus import EventBus
from ..codes import Role
from ..config import Settings
from ..consultations import service as consultations
from ..consultations.lifecycle import JOIN_EARLY, Action, Status
from ..consultations.models import Consultation
from ..consultations.participants import is_invited, room_for_one_more
from ..db.uow import in_own_transaction
from ..errors import Conflict, Forbidden, NotFound, Unauthorized
from ..notify import service as notify
from ..notify.channels import hint
from ..patients.models import Patient
from .models import CallOptions, CallParticipation, CallTicket
from .rules import call_is_open, new_ticket, ticket_hash
from .schemas import CallOptionsIn


class NotAParticipant(Forbidden):
    default_detail = "Only the consultation's participants can join its call."
    default_code = "call_not_participant"


class CallNotOpen(Forbidden):
    default_detail = (
        "The call opens 15 minutes before the slot and closes 60 minutes after its end."
    )
    default_code = "call_not_open"


class InvitePatientGpOnly(Forbidden):
    default_detail = "Only the consultation's GP invites the patient to the call."
    default_code = "invite_patient_gp_only"


class PatientHasNoAccount(Conflict):
    default_detail = "The patient's account is disabled: it cannot join the call."
    default_code = "patient_no_account"


class PatientHasNoPhone(Conflict):
    default_detail = (
        "The patient has no account and no phone on their record to send the call link to."
    )
    default_code = "patient_no_phone"


async def _patient_account(
    session: AsyncSession, consultation: Consultation, now: datetime
) -> tuple[User, bool]:
    """The account the patient joins the call with, and whether it was made now: their own,
    else one made for the call (``accounts/guests.py``) when their record has a phone."""
    mine = select(User).where(User.patient_id == consultation.patient_id)
    account = await session.scalar(mine)
    if account is None:
        patient = await session.get(Patient, consultation.patient_id)
        if patient is None or not patient.phone:
            raise PatientHasNoPhone()
        made = guests.call_account(patient, now)
        try:
            async with session.begin_nested():
                session.add(made)
                await session.flush()
            return made, True
        except IntegrityError:
            # Made at the same moment for another of the patient's consultations.
            account = await session.scalar(mine)
            if account is None:
                raise
    if not account.is_active:
        raise PatientHasNoAccount()
    return account, False


class BadTicket(Unauthorized):
    default_detail = "The call ticket is unknown, used or expired; ask for a new one."
    default_code = "call_ticket_invalid"


@dataclass(frozen=True)
class CallAccess:
    consultation: Consultation
    options: CallOptions | None
    role: str


def call_mode(settings: Settings, options: CallOptions | None) -> str:
    """The consultation's own choice, else the server's default; recording needs the relay."""
    if options is not None and options.record:
        return "relay"
    if options is not None and options.mode:
        return options.mode
    return settings.call_mode


async def check_access(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID, now: datetime
) -> CallAccess:
    """The caller may join this call now: a participant (404/403), inside the window (403).

    The consultation and its call options come in one query: this runs on every ticket and
    every joining, before the first frame.
    """
    row = (
        await session.execute(
            consultations.visible_consultations(actor)
            .add_columns(CallOptions)
            .outerjoin(CallOptions, CallOptions.consultation_id == Consultation.id)
            .where(Consultation.id == consultation_id)
        )
    ).first()
    if row is None:
        raise NotFound(code="consultation_not_found")
    consultation, options = row
    participant = actor.id in (consultation.requester_id, consultation.specialist_id) or (
        actor.role == Role.patient
        and actor.patient_id == consultation.patient_id
        and options is not None
        and options.patient_invited
    )
    if not participant and actor.role == Role.specialist:
        participant = await is_invited(session, consultation_id, actor.id)
    if not participant:
        raise NotAParticipant()
    if not call_is_open(consultation.status, consultation.starts_at, consultation.ends_at, now):
        raise CallNotOpen()
    return CallAccess(consultation, options, actor.role)


async def issue_ticket(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    now: datetime,
    ttl: int,
    session_hash: str | None = None,
) -> str:
    """A one-time ticket for the signaling websocket; only its hash is stored."""
    # The caller's spent and expired tickets are of no further use: keep the table small.
    await session.execute(
        delete(CallTicket).where(CallTicket.user_id == actor.id, CallTicket.expires_at <= now)
    )
    ticket = new_ticket()
    session.add(
        CallTicket(
            token_hash=ticket_hash(ticket),
            consultation_id=consultation_id,
            user_id=actor.id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            session_hash=session_hash,
        )
    )
    await session.flush()
    return ticket


@dataclass(frozen=True)
class TicketHolder:
    user: User
    # The sign-in session the ticket was issued under.
    session_hash: str | None


async def redeem_ticket(
    session: AsyncSession, consultation_id: uuid.UUID, ticket: str, now: datetime
) -> TicketHolder:
    """Spend a ticket (once, before it expires) and return its holder, or 401.

    The ticket is spent in a transaction of its own before it is checked: one that is
    refused (expired, for another call, its holder disabled) cannot be tried again.
    """

    async def spend(own: AsyncSession) -> Any:
        return (
            await own.execute(
                update(CallTicket)
                .where(CallTicket.token_hash == ticket_hash(ticket), CallTicket.used_at.is_(None))
                .values(used_at=now)
                .returning(
                    CallTicket.consultation_id,
                    CallTicket.user_id,
                    CallTicket.expires_at,
                    CallTicket.session_hash,
                )
            )
        ).first()

    spent = await in_own_transaction(session, spend)
    if spent is None or spent.consultation_id != consultation_id or spent.expires_at <= now:
        raise BadTicket()
    user = await session.get(User, spent.user_id)
    if user is None or not user.is_active:
        raise BadTicket()
    return TicketHolder(user, spent.session_hash)


async def join_call(
    session: AsyncSession,
    bus: EventBus,
    actor: User,
    consultation_id: uuid.UUID,
    peer_id: str,
    now: datetime,
) -> CallAccess:
    """Record the joining; a clinician's joining starts a scheduled consultation."""
    access = await check_access(session, actor, consultation_id, now)
    consultation = access.consultation
    if consultation.status == Status.scheduled and actor.id in (
        consultation.requester_id,
        consultation.specialist_id,
    ):
        consultation = await consultations.transition(
            session, actor, consultation_id, Action.start, now=now
        )
        await consultations.publish_change(session, bus, consultation, Action.start.value)
    session.add(
        CallParticipation(
            consultation_id=consultation_id,
            user_id=actor.id,
            role=actor.role,
            peer_id=peer_id,
            joined_at=now,
        )
    )
    await session.flush()
    return CallAccess(consultation, access.options, access.role)


async def leave_call(session: AsyncSession, peer_id: str, now: datetime) -> None:
    """Close a stay; a no-op when it is already closed (e.g. by another process)."""
    await session.execute(
        update(CallParticipation)
        .where(CallParticipation.peer_id == peer_id, CallParticipation.left_at.is_(None))
        .values(left_at=now)
    )


async def participations(
    session: AsyncSession, consultation_id: uuid.UUID
) -> list[CallParticipation]:
    """Every stay in a consultation's call, oldest first."""
    rows = await session.scalars(
        select(CallParticipation)
        .where(CallParticipation.consultation_id == consultation_id)
        .order_by(CallParticipation.joined_at, CallParticipation.id)
    )
    return list(rows)


async def set_options(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    data: CallOptionsIn,
    now: datetime,
    base_url: str,
    client: str | None = None,
) -> tuple[CallOptions, str | None]:
    """The requesting GP or the specialist chooses the media mode; the GP invites the patient
    (while there is room: participants.MAX_PEOPLE), who is sent a one-time link by SMS when
    the call opens (``links.py``). A patient without an account but with a phone gets one
    made for the call, with no password (``accounts/guests.py``). With the options, the
    phone the link goes to, hinted, for the GP, while the patient is invited and sent one."""
    # Inviting counts who takes part: locked, as an invitation of a specialist locks it.
    consultation = await consultations.get_consultation(
        session, actor, consultation_id, for_update=bool(data.invite_patient)
    )
    if actor.id not in (consultation.requester_id, consultation.specialist_id):
        raise NotAParticipant()
    options = await session.get(CallOptions, consultation_id)
    if options is None:
        options = CallOptions(consultation_id=consultation_id, patient_invited=False, record=False)
        session.add(options)
    if data.mode is not None:
        options.mode = data.mode
    if data.invite_patient is not None and data.invite_patient != options.patient_invited:
        if actor.id != consultation.requester_id:
            raise InvitePatientGpOnly()
        if data.invite_patient:
            await room_for_one_more(session, consultation, patient_invited=False)
            _, made = await _patient_account(session, consultation, now)
            if consultation.starts_at:
                await notify.call_opening(
                    session,
                    consultation_id=consultation.id,
                    patient_id=consultation.patient_id,
                    opens_at=consultation.starts_at - JOIN_EARLY,
                    base_url=base_url,
                    now=now,
                )
            await record(
                session,
                patient_id=consultation.patient_id,
                actor_id=actor.id,
                action="call.patient_invite",
                outcome="ok",
                reason=f"consultation {consultation.id}: the patient invited to the call"
                + ("; an account without a password made for it" if made else ""),
                at=now,
                client=client,
            )
        else:
            await notify.call_opening_withdrawn(session, consultation.id)
        options.patient_invited = data.invite_patient
    options.updated_at = now
    await session.flush()
    return options, await _sms_to(session, actor, consultation, options)


async def get_options(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID
) -> tuple[CallOptions | None, str | None]:
    """The call's options as its GP or specialist sees them (None: never set), and for its GP
    the hinted phone the invited patient's link goes to."""
    consultation = await consultations.get_consultation(session, actor, consultation_id)
    if actor.id not in (consultation.requester_id, consultation.specialist_id):
        raise NotAParticipant()
    options = await session.get(CallOptions, consultation_id)
    return options, await _sms_to(session, actor, consultation, options)


async def _sms_to(
    session: AsyncSession, actor: User, consultation: Consultation, options: CallOptions | None
) -> str | None:
    """Where the invited patient's call link goes, hinted, for the GP alone."""
    if options is None or not options.patient_invited or actor.id != consultation.requester_id:
        return None
    address = await notify.call_opening_to(session, consultation.id)
    return hint(address) if address else None


async def set_recording_consent(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID, granted: bool, now: datetime
) -> CallOptions:
    """The patient, and only the patient, allows or forbids recording their consultation's call.

    Recording runs the call through the server's gateway (relay mode); the file goes to the
    data folder and is announced on the bus for the patient's passport.
    """
    consultation = await consultations.get_consultation(session, actor, consultation_id)
    if actor.role != Role.patient or actor.patient_id != consultation.patient_id:
        raise Forbidden("Only the patient can consent to recording.", code="recording_patient_only")
    options = await session.get(CallOptions, consultation_id)
    if options is None:
        options = CallOptions(consultation_id=consultation_id, patient_invited=False, record=False)
        session.add(options)
    options.record = granted
    options.updated_at = now
    await session.flush()
    return options
