"""A specialist's weekly hours, leave, and removing windows: weekly hours are cut into slots
ahead of time (``WEEKLY_HORIZON``), leave removes the free slots it covers, and a window with
a booking is never removed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..consultations.models import Consultation
from ..errors import Conflict, NotFound, field_error
from .models import AvailabilityWindow, Leave, Slot, WeeklyHours
from .schemas import (
    AvailabilityOverview,
    LeaveCreate,
    LeaveOut,
    WeeklyHoursCreate,
    WeeklyHoursOut,
    WindowOut,
)
from .slots import derive_slots

# How far ahead weekly hours are cut into slots when they are set (and when leave ends).
WEEKLY_HORIZON = timedelta(days=56)
# Leave is at most a year at a time.
MAX_LEAVE_DAYS = 366


async def specialist_of(session: AsyncSession, actor: User, specialist_id: uuid.UUID) -> User:
    """The specialist whose availability is edited: oneself, or any specialist for an admin."""
    if actor.role != Role.admin and actor.id != specialist_id:
        raise NotFound()
    specialist = await session.get(User, specialist_id)
    if specialist is None or specialist.role != Role.specialist:
        raise NotFound()
    return specialist


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise field_error("time_zone", "not a known time zone", "time_zone_unknown") from None


def _minute(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


async def on_leave(
    session: AsyncSession, specialist_id: uuid.UUID, starts_at: datetime, ends_at: datetime
) -> bool:
    found = await session.scalar(
        select(Leave.id)
        .where(
            Leave.specialist_id == specialist_id,
            Leave.starts_at < ends_at,
            Leave.ends_at > starts_at,
        )
        .limit(1)
    )
    return found is not None


def _booked_slot() -> ColumnElement[bool]:
    return exists().where(Consultation.slot_id == Slot.id, Consultation.status != "cancelled")


async def _remove_slots(session: AsyncSession, slot_ids: list[uuid.UUID]) -> None:
    """Delete free slots; a cancelled consultation that once held one keeps its times."""
    if not slot_ids:
        return
    await session.execute(
        update(Consultation)
        .where(Consultation.slot_id.in_(slot_ids), Consultation.status == "cancelled")
        .values(slot_id=None)
    )
    await session.execute(delete(Slot).where(Slot.id.in_(slot_ids)))


async def _remove_windows(session: AsyncSession, window_ids: list[uuid.UUID]) -> int:
    """Delete windows and their slots (the caller has checked none is booked)."""
    if not window_ids:
        return 0
    slot_ids = list(await session.scalars(select(Slot.id).where(Slot.window_id.in_(window_ids))))
    await _remove_slots(session, slot_ids)
    await session.execute(delete(AvailabilityWindow).where(AvailabilityWindow.id.in_(window_ids)))
    return len(slot_ids)


async def _has_bookings(session: AsyncSession, window_ids: list[uuid.UUID]) -> bool:
    if not window_ids:
        return False
    found = await session.scalar(
        select(Slot.id).where(Slot.window_id.in_(window_ids), _booked_slot()).limit(1)
    )
    return found is not None


async def _cut_weekly(
    session: AsyncSession, rule: WeeklyHours, first: date, last: date, now: datetime
) -> int:
    """Windows and slots for ``rule`` on its weekday between two local days (inclusive),
    skipping days that are over, on leave, or already covered by another window."""
    zone = ZoneInfo(rule.time_zone)
    count = 0
    day = first
    while day <= last:
        if day.weekday() == rule.weekday:
            midnight = datetime.combine(day, time(0))
            starts_at = (midnight + timedelta(minutes=rule.start_minute)).replace(tzinfo=zone)
            ends_at = (midnight + timedelta(minutes=rule.end_minute)).replace(tzinfo=zone)
            starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
            pieces = [(s, e) for s, e in derive_slots(starts_at, ends_at, rule.slot_minutes)]
            pieces = [(s, e) for s, e in pieces if s > now]
            clash = await session.scalar(
                select(AvailabilityWindow.id)
                .where(
                    AvailabilityWindow.specialist_id == rule.specialist_id,
                    AvailabilityWindow.starts_at < ends_at,
                    AvailabilityWindow.ends_at > starts_at,
                )
                .limit(1)
            )
            if (
                pieces
                and clash is None
                and not await on_leave(session, rule.specialist_id, starts_at, ends_at)
            ):
                window = AvailabilityWindow(
                    specialist_id=rule.specialist_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    slot_minutes=rule.slot_minutes,
                    weekly_id=rule.id,
                )
                session.add(window)
                await session.flush()
                session.add_all(
                    Slot(
                        window_id=window.id,
                        specialist_id=rule.specialist_id,
                        starts_at=s,
                        ends_at=e,
                    )
                    for s, e in pieces
                )
                await session.flush()
                count += len(pieces)
        day += timedelta(days=1)
    return count


async def add_weekly_hours(
    session: AsyncSession,
    actor: User,
    specialist_id: uuid.UUID,
    data: WeeklyHoursCreate,
    *,
    now: datetime,
    default_slot_minutes: int,
) -> tuple[WeeklyHours, int]:
    """Recurring hours on a weekday; the next weeks' slots are published at once."""
    await specialist_of(session, actor, specialist_id)
    zone = _zone(data.time_zone)
    start, end = _minute(data.starts), _minute(data.ends)
    if end <= start:
        raise field_error("ends", "must be after the start", "ends_before_starts")
    minutes = data.slot_minutes or default_slot_minutes
    if minutes > end - start:
        raise field_error("slot_minutes", "longer than the hours", "slot_longer_than_window")
    today = now.astimezone(zone).date()
    rule = WeeklyHours(
        specialist_id=specialist_id,
        weekday=data.weekday,
        start_minute=start,
        end_minute=end,
        time_zone=data.time_zone,
        slot_minutes=minutes,
        cut_until=today + WEEKLY_HORIZON,
        created_at=now,
    )
    session.add(rule)
    await session.flush()
    count = await _cut_weekly(session, rule, today, rule.cut_until, now)
    return rule, count


async def top_up_weekly(session: AsyncSession, specialist_id: uuid.UUID, now: datetime) -> int:
    """Cut the days that came within the horizon since weekly hours were last cut."""
    count = 0
    rules = await session.scalars(
        select(WeeklyHours).where(WeeklyHours.specialist_id == specialist_id)
    )
    for rule in list(rules):
        target = now.astimezone(ZoneInfo(rule.time_zone)).date() + WEEKLY_HORIZON
        if rule.cut_until < target:
            first = max(rule.cut_until + timedelta(days=1), target - WEEKLY_HORIZON)
            count += await _cut_weekly(session, rule, first, target, now)
            rule.cut_until = target
    await session.flush()
    return count


async def remove_weekly_hours(
    session: AsyncSession,
    actor: User,
    specialist_id: uuid.UUID,
    rule_id: uuid.UUID,
    *,
    now: datetime,
) -> int:
    """Stop recurring hours and remove their coming slots; 409 while one of them is booked."""
    await specialist_of(session, actor, specialist_id)
    rule = await session.get(WeeklyHours, rule_id)
    if rule is None or rule.specialist_id != specialist_id:
        raise NotFound()
    coming = list(
        await session.scalars(
            select(AvailabilityWindow.id).where(
                AvailabilityWindow.weekly_id == rule.id, AvailabilityWindow.ends_at > now
            )
        )
    )
    if await _has_bookings(session, coming):
        raise Conflict(
            "A consultation is booked in these hours; cancel it first.",
            code="window_has_bookings",
        )
    removed = await _remove_windows(session, coming)
    await session.delete(rule)
    await session.flush()
    return removed


async def remove_window(
    session: AsyncSession,
    actor: User,
    specialist_id: uuid.UUID,
    window_id: uuid.UUID,
) -> int:
    """Remove a window and its slots; 409 while one of them is booked."""
    await specialist_of(session, actor, specialist_id)
    window = await session.get(AvailabilityWindow, window_id)
    if window is None or window.specialist_id != specialist_id:
        raise NotFound()
    if await _has_bookings(session, [window.id]):
        raise Conflict(
            "A consultation is booked in this window; cancel it first.",
            code="window_has_bookings",
        )
    return await _remove_windows(session, [window.id])


async def add_leave(
    session: AsyncSession,
    actor: User,
    specialist_id: uuid.UUID,
    data: LeaveCreate,
    *,
    now: datetime,
) -> tuple[Leave, int]:
    """Days off: their free slots go; 409 while a consultation is booked in them."""
    await specialist_of(session, actor, specialist_id)
    zone = _zone(data.time_zone)
    if data.last_day < data.first_day:
        raise field_error("last_day", "must not be before the first day", "ends_before_starts")
    if (data.last_day - data.first_day).days + 1 > MAX_LEAVE_DAYS:
        raise field_error("last_day", "leave is at most a year at a time", "leave_too_long")
    if data.last_day < now.astimezone(zone).date():
        raise field_error("last_day", "the leave is already over", "in_the_past")
    starts_at = _local_midnight(data.first_day, zone)
    ends_at = _local_midnight(data.last_day + timedelta(days=1), zone)
    overlapping = and_(
        Slot.specialist_id == specialist_id,
        Slot.starts_at < ends_at,
        Slot.ends_at > starts_at,
        Slot.ends_at > now,
    )
    booked = await session.scalar(select(Slot.id).where(overlapping, _booked_slot()).limit(1))
    if booked is not None:
        raise Conflict(
            "A consultation is booked during this leave; cancel it first.",
            code="leave_has_bookings",
        )
    slot_ids = list(await session.scalars(select(Slot.id).where(overlapping)))
    window_ids = set(await session.scalars(select(Slot.window_id).where(Slot.id.in_(slot_ids))))
    await _remove_slots(session, slot_ids)
    # Windows left without a slot go too.
    for window_id in window_ids:
        left = await session.scalar(select(Slot.id).where(Slot.window_id == window_id).limit(1))
        if left is None:
            await session.execute(
                delete(AvailabilityWindow).where(AvailabilityWindow.id == window_id)
            )
    leave = Leave(
        specialist_id=specialist_id,
        first_day=data.first_day,
        last_day=data.last_day,
        time_zone=data.time_zone,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=now,
    )
    session.add(leave)
    await session.flush()
    return leave, len(slot_ids)


async def remove_leave(
    session: AsyncSession,
    actor: User,
    specialist_id: uuid.UUID,
    leave_id: uuid.UUID,
    *,
    now: datetime,
) -> int:
    """Cancel leave; the weekly hours of its days are published again. The slots it added."""
    await specialist_of(session, actor, specialist_id)
    leave = await session.get(Leave, leave_id)
    if leave is None or leave.specialist_id != specialist_id:
        raise NotFound()
    await session.delete(leave)
    await session.flush()
    count = 0
    rules = await session.scalars(
        select(WeeklyHours).where(WeeklyHours.specialist_id == specialist_id)
    )
    for rule in rules:
        zone = ZoneInfo(rule.time_zone)
        horizon = now.astimezone(zone).date() + WEEKLY_HORIZON
        first = max(leave.first_day, now.astimezone(zone).date())
        last = min(leave.last_day, horizon, rule.cut_until)
        count += await _cut_weekly(session, rule, first, last, now)
    return count


async def availability_overview(
    session: AsyncSession, actor: User, specialist_id: uuid.UUID, *, now: datetime
) -> AvailabilityOverview:
    """Weekly hours, the coming windows (with how many slots are booked) and leave.

    Looking at them also publishes the weekly hours of the days that came within the
    horizon since they were last cut (idempotent: a day is cut once)."""
    await specialist_of(session, actor, specialist_id)
    await top_up_weekly(session, specialist_id, now)
    booked = func.count(Consultation.id)
    rows = (
        await session.execute(
            select(AvailabilityWindow, func.count(Slot.id.distinct()), booked)
            .join(Slot, Slot.window_id == AvailabilityWindow.id)
            .outerjoin(
                Consultation,
                and_(Consultation.slot_id == Slot.id, Consultation.status != "cancelled"),
            )
            .where(
                AvailabilityWindow.specialist_id == specialist_id,
                AvailabilityWindow.ends_at > now,
            )
            .group_by(AvailabilityWindow.id)
            .order_by(AvailabilityWindow.starts_at)
            .limit(200)
        )
    ).all()
    windows = [
        WindowOut(
            id=w.id,
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            slot_minutes=w.slot_minutes,
            slots=slots,
            booked=taken,
            weekly_id=w.weekly_id,
        )
        for w, slots, taken in rows
    ]
    rules = await session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.specialist_id == specialist_id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_minute)
    )
    weekly = []
    for rule in rules:
        mine = [w for w in windows if w.weekly_id == rule.id]
        weekly.append(
            WeeklyHoursOut(
                id=rule.id,
                weekday=rule.weekday,
                starts=_clock(rule.start_minute),
                ends=_clock(rule.end_minute),
                time_zone=rule.time_zone,
                slot_minutes=rule.slot_minutes,
                slots=sum(w.slots for w in mine),
                booked=sum(w.booked for w in mine),
            )
        )
    leave = await session.scalars(
        select(Leave)
        .where(Leave.specialist_id == specialist_id, Leave.ends_at > now)
        .order_by(Leave.starts_at)
    )
    return AvailabilityOverview(
        weekly=weekly,
        windows=windows,
        leave=[
            LeaveOut(
                id=item.id,
                first_day=item.first_day,
                last_day=item.last_day,
                time_zone=item.time_zone,
            )
            for item in leave
        ],
    )
