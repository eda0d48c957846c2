"""Availability windows and free slots (weekly hours and leave: ``hours.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import SpecialistSpecialty, User
from ..consultations.models import Consultation
from ..db.paging import keyset_page
from ..errors import Conflict, field_error
from ..facilities.models import Facility
from .hours import on_leave, specialist_of
from .models import AvailabilityWindow, Slot
from .schemas import (
    AvailabilityCreate,
    SlotOut,
    SlotQuery,
)
from .slots import MAX_WINDOW, derive_slots


async def publish_availability(
    session: AsyncSession,
    actor: User,
    specialist_id: uuid.UUID,
    data: AvailabilityCreate,
    *,
    now: datetime,
    default_slot_minutes: int,
) -> tuple[AvailabilityWindow, int]:
    """Publish a window for a specialist (themself, or any specialist for an admin).

    Windows of one specialist never overlap; the database refuses overlapping slots too, so
    two concurrent publications cannot both win.
    """
    await specialist_of(session, actor, specialist_id)
    if data.ends_at <= data.starts_at:
        raise field_error("ends_at", "must be after starts_at", "ends_before_starts")
    if data.ends_at - data.starts_at > MAX_WINDOW:
        raise field_error("ends_at", "a window is at most 24 hours long", "window_too_long")
    if data.ends_at <= now:
        raise field_error("ends_at", "the window is already over", "in_the_past")
    if await on_leave(session, specialist_id, data.starts_at, data.ends_at):
        raise field_error("starts_at", "the specialist is on leave then", "on_leave")
    minutes = data.slot_minutes or default_slot_minutes
    pieces = derive_slots(data.starts_at, data.ends_at, minutes)
    if not pieces:
        raise field_error("slot_minutes", "longer than the window", "slot_longer_than_window")
    clash = await session.scalar(
        select(AvailabilityWindow.id).where(
            AvailabilityWindow.specialist_id == specialist_id,
            AvailabilityWindow.starts_at < data.ends_at,
            AvailabilityWindow.ends_at > data.starts_at,
        )
    )
    if clash is not None:
        raise Conflict("This window overlaps one already published.", code="window_overlaps")
    window = AvailabilityWindow(
        specialist_id=specialist_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        slot_minutes=minutes,
    )
    session.add(window)
    await session.flush()
    session.add_all(
        Slot(window_id=window.id, specialist_id=specialist_id, starts_at=start, ends_at=end)
        for start, end in pieces
    )
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "This window overlaps one already published.", code="window_overlaps"
        ) from None
    return window, len(pieces)


def _slot_is_free() -> ColumnElement[bool]:
    return ~exists().where(Consultation.slot_id == Slot.id, Consultation.status != "cancelled")


def free_slots_statement(
    *,
    now: datetime,
    specialty: str | None = None,
    region: str | None = None,
    specialist_id: uuid.UUID | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    earliest_start: timedelta = timedelta(0),
) -> Select[Any]:
    """Free future slots with the specialty they serve and the specialist's facility/region."""
    if specialty is not None:
        specialty_col = (
            select(SpecialistSpecialty.specialty)
            .where(
                SpecialistSpecialty.user_id == Slot.specialist_id,
                SpecialistSpecialty.specialty == specialty,
            )
            .scalar_subquery()
        )
    else:
        specialty_col = (
            select(func.min(SpecialistSpecialty.specialty))
            .where(SpecialistSpecialty.user_id == Slot.specialist_id)
            .scalar_subquery()
        )
    # A slot that begins now has begun (booking refuses it): later ones only, from ``from_``
    # on when that is later.
    start_floor = now + earliest_start
    begins = Slot.starts_at > start_floor
    if from_ is not None and from_ > start_floor:
        begins = Slot.starts_at >= from_
    stmt = (
        select(Slot, specialty_col.label("specialty"), User.facility_id, Facility.region)
        .join(User, and_(User.id == Slot.specialist_id, User.is_active.is_(True)))
        .outerjoin(Facility, Facility.id == User.facility_id)
        .where(begins, _slot_is_free())
    )
    if specialty is not None:
        stmt = stmt.where(
            exists().where(
                SpecialistSpecialty.user_id == Slot.specialist_id,
                SpecialistSpecialty.specialty == specialty,
            )
        )
    if region is not None:
        stmt = stmt.where(Facility.region == region)
    if specialist_id is not None:
        stmt = stmt.where(Slot.specialist_id == specialist_id)
    if to is not None:
        stmt = stmt.where(Slot.starts_at < to)
    return stmt


async def list_free_slots(
    session: AsyncSession, q: SlotQuery, *, now: datetime
) -> tuple[list[SlotOut], str | None]:
    """A page of free slots, earliest first, each with its specialty and place."""
    stmt = free_slots_statement(
        now=now,
        specialty=q.specialty,
        region=q.region,
        specialist_id=q.specialist_id,
        from_=q.from_,
        to=q.to,
    )
    rows, nxt = await keyset_page(
        session, stmt, [Slot.starts_at, Slot.id], q.cursor, q.limit, scalars=False
    )
    items = [
        SlotOut(
            id=slot.id,
            specialist_id=slot.specialist_id,
            specialty=specialty,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            facility_id=facility_id,
            region=region,
        )
        for slot, specialty, facility_id, region in rows
    ]
    return items, nxt
