"""Booking and the consultation lifecycle, with ownership checks on every object."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, exists, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import SpecialistSpecialty, User
from ..bus import EventBus
from ..bus.outbox import enqueue
from ..calls.durations import call_seconds
from ..codes import Role
from ..consent.requests import request_specialist_consent, withdraw_for_consultation
from ..db.paging import keyset_page
from ..errors import Conflict, Forbidden, NotFound, field_error
from ..facilities.models import Facility
from ..notify import service as notify
from ..patients.models import Patient
from ..proof.flags import flag_completion
from ..scheduling.models import Slot
from ..scheduling.service import free_slots_statement
from ..stats.rollups import facts_of, record_change
from .idempotency import remember, replay, request_fingerprint
from .lifecycle import URGENCY_RANK, Action, Mode, Status, Urgency, check_timing, next_status
from .models import Consultation
from .participants import invited_clause, invited_ids
from .schemas import ConsultationCreate, ConsultationOut, ConsultationQuery

# How many times "earliest free" looks again when a slot it took was booked meanwhile.
EARLIEST_ATTEMPTS = 5


class SlotTaken(Conflict):
    default_detail = "That slot has just been taken; choose another."
    default_code = "slot_taken"


def is_conflict_on_booking(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return any(
        name in text
        for name in (
            "uq_consultations_active_slot",
            "ex_consultations_no_overlap",
            "consultations.slot_id",
        )
    )


# The booking's lookups, built once: columns, not whole objects, are all a booking needs.
_BOOKABLE_PATIENT = (
    select(Patient.id, Patient.facility_id, Facility.region)
    .outerjoin(Facility, Facility.id == Patient.facility_id)
    .where(Patient.id == bindparam("patient_id"))
)
_SLOT_COLUMNS = (Slot.id, Slot.specialist_id, Slot.starts_at, Slot.ends_at)
_PRACTISES = (
    exists()
    .where(
        SpecialistSpecialty.user_id == Slot.specialist_id,
        SpecialistSpecialty.specialty == bindparam("specialty"),
    )
    .label("practises")
)
_SLOT_BY_ID = select(*_SLOT_COLUMNS, _PRACTISES).where(Slot.id == bindparam("slot_id"))
_SLOT_AT = select(*_SLOT_COLUMNS, _PRACTISES).where(
    Slot.specialist_id == bindparam("specialist_id"), Slot.starts_at == bindparam("starts_at")
)


async def _bookable_patient(
    session: AsyncSession, actor: User, patient_id: uuid.UUID
) -> Row[uuid.UUID, uuid.UUID | None, str]:
    """The patient's id, facility and its region (one query); a GP books only for its
    facility."""
    row = (await session.execute(_BOOKABLE_PATIENT, {"patient_id": patient_id})).first()
    if row is None or (actor.role == Role.gp and row.facility_id != actor.facility_id):
        raise field_error("patient_id", "no such patient", code="no_such_patient")
    return row


async def _chosen_slot(
    session: AsyncSession, data: ConsultationCreate, now: datetime
) -> Row[uuid.UUID, uuid.UUID, datetime, datetime, bool]:
    """The named slot, checked to be in the future and to serve the specialty (one query)."""
    params: dict[str, Any]
    if data.slot_id is not None:
        stmt, params = _SLOT_BY_ID, {"slot_id": data.slot_id}
        missing = field_error("slot_id", "no such slot", code="no_such_slot")
    else:
        assert data.specialist_id is not None and data.starts_at is not None
        stmt = _SLOT_AT
        params = {"specialist_id": data.specialist_id, "starts_at": data.starts_at}
        missing = field_error(
            "starts_at", "the specialist has no slot starting then", code="no_slot_then"
        )
    row = (await session.execute(stmt, {**params, "specialty": data.specialty})).first()
    if row is None:
        raise missing
    if row.starts_at <= now:
        raise field_error("slot_id", "the slot has already begun", code="slot_begun")
    if not row.practises:
        raise field_error(
            "slot_id",
            "the slot's specialist does not practise this specialty",
            code="slot_other_specialty",
        )
    return row


def place_in_slot(consultation: Consultation, slot: Any) -> None:
    """``slot``: a :class:`Slot`, or a row of its id, specialist_id, starts_at and ends_at."""
    consultation.slot_id = slot.id
    consultation.specialist_id = slot.specialist_id
    consultation.starts_at = slot.starts_at
    consultation.ends_at = slot.ends_at
    consultation.sort_at = slot.starts_at


async def _booked(session: AsyncSession, consultation: Consultation) -> None:
    """What a new booking sets off in its own transaction: the statistics rollup, the
    patient's messages and, once a specialist is known, the request for the patient's consent
    to that specialist."""
    await record_change(session, None, consultation)
    contact = await notify.patient_contact(session, consultation.patient_id)
    await request_specialist_consent(session, consultation, contact=contact)
    await notify.consultation_booked(
        session,
        consultation_id=consultation.id,
        patient_id=consultation.patient_id,
        starts_at=consultation.starts_at,
        now=consultation.created_at,
        staff=(consultation.requester_id, consultation.specialist_id),
        contact=contact,
    )


async def book_consultation(
    session: AsyncSession, actor: User, data: ConsultationCreate, *, now: datetime
) -> Consultation:
    """Book a video consultation into a slot, or queue an async case by specialty.

    The slot can be named (``slot_id``, or ``specialist_id`` + ``starts_at``) or left to us
    (earliest free slot in the specialty; on-call specialists first for emergencies). The
    database refuses a second active booking of a slot and overlapping bookings of one
    specialist, so of two racing requests exactly one wins and the other gets 409.
    """
    patient = await _bookable_patient(session, actor, data.patient_id)
    consultation = Consultation(
        id=uuid.uuid4(),
        patient_id=patient.id,
        requester_id=actor.id,
        facility_id=patient.facility_id,
        region=patient.region,
        specialty=data.specialty,
        mode=data.mode.value,
        urgency=data.urgency.value,
        urgency_rank=URGENCY_RANK[data.urgency],
        reason=data.reason,
        created_at=now,
    )

    if data.mode == Mode.async_:
        for name in ("slot_id", "specialist_id", "starts_at"):
            if getattr(data, name) is not None:
                raise field_error(
                    name, "async cases go to the specialty queue, not a slot", code="async_no_slot"
                )
        consultation.status = Status.requested.value
        consultation.sort_at = now
        session.add(consultation)
        await session.flush()
        await _booked(session, consultation)
        return consultation

    consultation.status = Status.scheduled.value
    if data.slot_id is not None or data.specialist_id is not None or data.starts_at is not None:
        if data.slot_id is None and (data.specialist_id is None or data.starts_at is None):
            missing = "starts_at" if data.starts_at is None else "specialist_id"
            raise field_error(
                missing, "give slot_id, or specialist_id with starts_at", code="slot_incomplete"
            )
        slot = await _chosen_slot(session, data, now)
        place_in_slot(consultation, slot)
        session.add(consultation)
        try:
            await session.flush()
        except IntegrityError as exc:
            if is_conflict_on_booking(exc):
                raise SlotTaken() from None
            raise
        await _booked(session, consultation)
        return consultation

    # Earliest free slot in the specialty; emergencies look at on-call specialists first.
    candidates_stmt = free_slots_statement(now=now, specialty=data.specialty)
    if data.urgency == Urgency.emergency:
        candidates_stmt = candidates_stmt.order_by(User.on_call.desc())
    await take_earliest_slot(
        session,
        consultation,
        candidates_stmt,
        field="specialty",
        detail="No free slot in this specialty; try later or send an async case.",
    )
    await _booked(session, consultation)
    return consultation


async def take_slot(session: AsyncSession, consultation: Consultation, slot: Slot) -> bool:
    """Put the consultation (new or booked already) in ``slot``, in a savepoint: losing the
    race for one slot must not end the transaction. ``False`` when the slot was taken."""
    try:
        async with session.begin_nested():
            place_in_slot(consultation, slot)
            session.add(consultation)
            await session.flush()
    except IntegrityError as exc:
        if not is_conflict_on_booking(exc):
            raise
        if inspect(consultation).persistent:
            await session.refresh(consultation)  # back to the slot it still holds
        return False
    return True


async def take_earliest_slot(
    session: AsyncSession,
    consultation: Consultation,
    candidates: Select[Any],
    *,
    field: str,
    detail: str,
) -> None:
    """Put the consultation in the earliest of the free slots ``candidates`` selects (after
    any order it gives first), looking again when another request took it meanwhile; with no
    free slot at all, 409 ``no_free_slot`` on ``field``.

    Concurrent requests each take a different free slot: a slot another request is taking is
    locked, and skipped (PostgreSQL; SQLite's writers run one at a time anyway)."""
    next_free = (
        candidates.order_by(Slot.starts_at, Slot.id)
        .limit(1)
        .with_for_update(of=Slot, skip_locked=True)
    )
    for _ in range(EARLIEST_ATTEMPTS):
        slot = (await session.scalars(next_free)).first()
        if slot is None:
            raise Conflict(
                detail,
                fields={field: "no free slot"},
                code="no_free_slot",
                field_codes={field: "no_free_slot"},
            )
        if await take_slot(session, consultation, slot):
            return
    raise SlotTaken("Every candidate slot was taken at the same time; try again.")


async def book_once(
    session: AsyncSession,
    bus: EventBus,
    actor: User,
    data: ConsultationCreate,
    *,
    idempotency_key: str | None,
    now: datetime,
) -> tuple[dict[str, Any], int]:
    """Book (:func:`book_consultation`) and announce it; with an ``idempotency_key`` a retried
    request gets the first one's answer (status and body) instead of a second booking."""
    # Only a request that may be retried is fingerprinted.
    fingerprint = ""
    if idempotency_key is not None:
        fingerprint = request_fingerprint(data.model_dump(mode="json"))
        previous = await replay(session, actor.id, idempotency_key, fingerprint)
        if previous is not None:
            return previous.response, previous.status
    consultation = await book_consultation(session, actor, data, now=now)
    out = ConsultationOut.model_validate(consultation).model_dump(mode="json")
    if idempotency_key is not None:
        await remember(session, actor.id, idempotency_key, fingerprint, 201, out, now)
    await publish_change(session, bus, consultation, "booked")
    return out, 201


def visible_consultations(actor: User) -> Select[Any]:
    """Consultations the actor may see; the rule behind every read in this module."""
    stmt = select(Consultation)
    role = Role(actor.role)
    if role == Role.admin:
        return stmt
    if role == Role.gp:
        return stmt.where(Consultation.requester_id == actor.id)
    if role == Role.specialist:
        claimable = and_(
            Consultation.specialist_id.is_(None),
            Consultation.status == Status.requested.value,
            exists().where(
                SpecialistSpecialty.user_id == actor.id,
                SpecialistSpecialty.specialty == Consultation.specialty,
            ),
        )
        return stmt.where(
            or_(Consultation.specialist_id == actor.id, claimable, invited_clause(actor.id))
        )
    return stmt.where(Consultation.patient_id == actor.patient_id)


async def list_consultations(
    session: AsyncSession, actor: User, q: ConsultationQuery
) -> tuple[list[ConsultationOut], str | None]:
    """A page of the consultations the actor may see, filtered; emergencies first."""
    stmt = visible_consultations(actor)
    if q.status is not None:
        stmt = stmt.where(Consultation.status == q.status.value)
    if q.mode is not None:
        stmt = stmt.where(Consultation.mode == q.mode.value)
    if q.specialty is not None:
        stmt = stmt.where(Consultation.specialty == q.specialty)
    if q.from_ is not None:
        stmt = stmt.where(Consultation.sort_at >= q.from_)
    if q.to is not None:
        stmt = stmt.where(Consultation.sort_at < q.to)
    order = [Consultation.urgency_rank, Consultation.sort_at, Consultation.id]
    rows, nxt = await keyset_page(session, stmt, order, q.cursor, q.limit)
    return [ConsultationOut.model_validate(r) for r in rows], nxt


async def get_consultation(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID, *, for_update: bool = False
) -> Consultation:
    stmt = visible_consultations(actor).where(Consultation.id == consultation_id)
    if for_update:
        stmt = stmt.with_for_update()
    consultation = await session.scalar(stmt)
    if consultation is None:
        raise NotFound(code="consultation_not_found")
    return consultation


def _may_act(actor: User, consultation: Consultation, action: Action) -> bool:
    role = Role(actor.role)
    is_requester = consultation.requester_id == actor.id
    is_specialist = consultation.specialist_id == actor.id
    if action == Action.claim:
        return role == Role.specialist and consultation.specialist_id is None
    if action == Action.start:
        return is_requester or is_specialist
    if action == Action.complete:
        return is_specialist
    if action == Action.cancel:
        return is_requester or is_specialist or role == Role.admin
    if action == Action.no_show:
        return is_requester or is_specialist
    return False


async def transition(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    action: Action,
    *,
    now: datetime,
    conclusion: str | None = None,
) -> Consultation:
    """Apply a lifecycle action after the ownership, state and timing checks (403/409)."""
    consultation = await get_consultation(session, actor, consultation_id, for_update=True)
    if not _may_act(actor, consultation, action):
        if actor.role == Role.patient:
            raise NotFound(code="consultation_not_found")
        raise Forbidden(f"You cannot {action.value} this consultation.", code="action_not_yours")
    target = next_status(Mode(consultation.mode), Status(consultation.status), action)
    check_timing(action, now, consultation.starts_at)
    before = facts_of(consultation)
    consultation.status = target.value
    if action == Action.claim:
        consultation.specialist_id = actor.id
        consultation.started_at = now
    elif action == Action.start:
        consultation.started_at = now
    elif action == Action.complete:
        consultation.ended_at = now
        if consultation.mode == Mode.video:
            # The statistics' call duration: the time two people were actually connected.
            consultation.call_seconds = await call_seconds(session, consultation.id, now)
        if conclusion:
            consultation.conclusion = conclusion
        # Proof of service: a completion without evidence of delivery is flagged now.
        await flag_completion(session, consultation, now)
        if consultation.mode == Mode.async_:
            await notify.case_answered(
                session,
                consultation_id=consultation.id,
                requester_id=consultation.requester_id,
                now=now,
            )
    elif action == Action.cancel:
        consultation.cancelled_at = now
    await session.flush()
    await record_change(session, before, consultation)
    if action == Action.claim:
        # An async case gets its specialist only now: ask the patient's consent for them.
        await request_specialist_consent(session, consultation)
    elif action == Action.cancel:
        await withdraw_for_consultation(session, consultation, actor_id=actor.id, now=now)
        await notify.consultation_cancelled(
            session,
            consultation_id=consultation.id,
            patient_id=consultation.patient_id,
            starts_at=consultation.starts_at,
            now=now,
        )
    return consultation


async def take_action(
    session: AsyncSession,
    bus: EventBus,
    actor: User,
    consultation_id: uuid.UUID,
    action: Action,
    *,
    now: datetime,
    conclusion: str | None = None,
) -> Consultation:
    """:func:`transition`, then announce the change to the live queues."""
    consultation = await transition(
        session, actor, consultation_id, action, now=now, conclusion=conclusion
    )
    await publish_change(session, bus, consultation, action.value)
    return consultation


async def publish_change(
    session: AsyncSession, bus: EventBus, consultation: Consultation, event: str
) -> None:
    """Once committed, tell the live queues through the outbox (no patient data: ids, status,
    specialty, urgency): its GP's, its specialist's, the invited specialists' and the
    specialty's."""
    message = {
        "type": "consultation",
        "event": event,
        "consultation_id": str(consultation.id),
        "status": consultation.status,
        "specialty": consultation.specialty,
        "urgency": consultation.urgency,
        "mode": consultation.mode,
    }
    channels = {f"user:{consultation.requester_id}", f"queue:{consultation.specialty}"}
    if consultation.specialist_id is not None:
        channels.add(f"user:{consultation.specialist_id}")
    if event != "booked":  # nobody is invited into a consultation being booked
        channels.update(f"user:{u}" for u in await invited_ids(session, consultation.id))

    for channel in sorted(channels):
        enqueue(session, channel, message)
