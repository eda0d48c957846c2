"""Moving a booked video call to another slot of its specialist.

The new slot is taken under the same database rule as a booking (the unique index on
``consultations.slot_id`` and the specialist's no-overlap constraint, turned into 409 by
:class:`service.SlotTaken`); the old slot is free as soon as the row no longer names it, in
the same transaction. The consultation keeps its id, referral, consent request and record;
the statistics do not count a move as a booking.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit.service import record
from ..bus import EventBus
from ..consent.requests import follow_move
from ..errors import Conflict, Forbidden, field_error
from ..notify import service as notify
from ..scheduling.models import Slot
from ..scheduling.service import free_slots_statement
from ..stats.rollups import facts_of, record_change
from .idempotency import remember, replay, request_fingerprint
from .lifecycle import Mode, Status, call_opens_at
from .models import Consultation
from .schemas import ConsultationOut, MoveIn
from .service import (
    SlotTaken,
    get_consultation,
    publish_change,
    take_earliest_slot,
    take_slot,
)


class NotBooked(Conflict):
    default_detail = "Only a booked video call that has not begun can be moved."
    default_code = "move_not_booked"


async def _movable(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID, now: datetime
) -> Consultation:
    """The consultation, locked: its GP or its specialist moves it while it is booked and
    before it begins (someone else's is a 404, as everywhere)."""
    consultation = await get_consultation(session, actor, consultation_id, for_update=True)
    if actor.id not in (consultation.requester_id, consultation.specialist_id):
        raise Forbidden("You cannot move this consultation.", code="action_not_yours")
    if (
        consultation.mode != Mode.video
        or consultation.status != Status.scheduled
        or consultation.starts_at is None
    ):
        raise NotBooked()
    if consultation.starts_at <= now:
        raise NotBooked("The consultation has already begun.", code="move_too_late")
    return consultation


async def _named_slot(
    session: AsyncSession, consultation: Consultation, slot_id: uuid.UUID, now: datetime
) -> Slot:
    slot = await session.get(Slot, slot_id)
    if slot is None:
        raise field_error("slot_id", "no such slot", code="no_such_slot")
    if slot.specialist_id != consultation.specialist_id:
        raise field_error(
            "slot_id",
            "the slot belongs to another specialist",
            code="slot_other_specialist",
        )
    if slot.id == consultation.slot_id:
        raise field_error("slot_id", "the consultation is already in this slot", "move_same_slot")
    if slot.starts_at <= now:
        raise field_error("slot_id", "the slot has already begun", code="slot_begun")
    return slot


async def move_consultation(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    data: MoveIn,
    *,
    now: datetime,
    client: str | None,
) -> Consultation:
    """Move a booked call to ``data.slot_id``, or to its specialist's earliest free slot."""
    consultation = await _movable(session, actor, consultation_id, now)
    was = consultation.starts_at
    assert was is not None
    before = facts_of(consultation)
    if data.slot_id is not None:
        slot = await _named_slot(session, consultation, data.slot_id, now)
        if not await take_slot(session, consultation, slot):
            raise SlotTaken()
    else:
        await take_earliest_slot(
            session,
            consultation,
            free_slots_statement(now=now, specialist_id=consultation.specialist_id),
            field="slot_id",
            detail="The specialist has no free slot; choose another time later.",
        )
    await record_change(session, before, consultation)
    assert consultation.starts_at is not None
    await follow_move(session, consultation)
    await record(
        session,
        patient_id=consultation.patient_id,
        actor_id=actor.id,
        action="consultation.move",
        outcome="ok",
        reason=f"consultation {consultation.id} moved from {was.isoformat()}"
        f" to {consultation.starts_at.isoformat()}",
        at=now,
        client=client,
    )
    opens_at = call_opens_at(consultation.mode, consultation.starts_at)
    assert opens_at is not None
    await notify.consultation_moved(
        session,
        consultation_id=consultation.id,
        patient_id=consultation.patient_id,
        was=was,
        starts_at=consultation.starts_at,
        opens_at=opens_at,
        now=now,
        staff=(consultation.requester_id, consultation.specialist_id),
    )
    return consultation


async def move_once(
    session: AsyncSession,
    bus: EventBus,
    actor: User,
    consultation_id: uuid.UUID,
    data: MoveIn,
    *,
    idempotency_key: str | None,
    now: datetime,
    client: str | None,
) -> dict[str, Any]:
    """Move (:func:`move_consultation`) and announce it; a retried request with the same
    ``idempotency_key`` gets the first one's answer, as booking does (``book_once``)."""
    fingerprint = request_fingerprint(
        {"move": str(consultation_id), **data.model_dump(mode="json")}
    )
    if idempotency_key is not None:
        previous = await replay(session, actor.id, idempotency_key, fingerprint)
        if previous is not None:
            return dict(previous.response)
    consultation = await move_consultation(
        session, actor, consultation_id, data, now=now, client=client
    )
    out = ConsultationOut.model_validate(consultation).model_dump(mode="json")
    if idempotency_key is not None:
        await remember(session, actor.id, idempotency_key, fingerprint, 200, out, now)
    await publish_change(session, bus, consultation, "moved")
    return out
