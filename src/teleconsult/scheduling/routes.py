from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from . import hours, service
from .schemas import (
    AvailabilityCreate,
    AvailabilityOut,
    AvailabilityOverview,
    LeaveCreate,
    LeaveOut,
    Removed,
    SlotOut,
    SlotQuery,
    WeeklyHoursCreate,
    WeeklyHoursOut,
)

router = Router("scheduling")


@router.post(
    "/specialists/{id}/availability",
    summary="Publish an availability window",
    body=AvailabilityCreate,
    response=AvailabilityOut,
    status=201,
    roles=[Role.specialist, Role.admin],
)
async def publish_availability(ctx: Ctx) -> AvailabilityOut:
    window, count = await service.publish_availability(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.body,
        now=ctx.clock.now(),
        default_slot_minutes=ctx.settings.default_slot_minutes,
    )
    return AvailabilityOut(
        id=window.id,
        specialist_id=window.specialist_id,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        slot_minutes=window.slot_minutes,
        slots=count,
    )


@router.get(
    "/slots",
    summary="Free slots, earliest first",
    read_only=True,
    query=SlotQuery,
    response=Page[SlotOut],
    roles=[Role.gp, Role.specialist, Role.admin],
)
async def list_slots(ctx: Ctx) -> Page[SlotOut]:
    items, nxt = await service.list_free_slots(ctx.session, ctx.query, now=ctx.clock.now())
    return Page[SlotOut](items=items, next=nxt)


_EDITORS = [Role.specialist, Role.admin]


@router.get(
    "/specialists/{id}/availability",
    summary="Weekly hours, coming windows and leave (publishes weekly hours newly in range)",
    response=AvailabilityOverview,
    roles=_EDITORS,
)
async def availability_overview(ctx: Ctx) -> AvailabilityOverview:
    return await hours.availability_overview(
        ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now()
    )


@router.route(
    "DELETE",
    "/specialists/{id}/availability/{window_id}",
    summary="Remove a window that has no booking",
    response=Removed,
    roles=_EDITORS,
)
async def remove_window(ctx: Ctx) -> Removed:
    window_id = ctx.path_id("window_id")
    count = await hours.remove_window(ctx.session, ctx.me, ctx.path_id(), window_id)
    return Removed(id=window_id, slots_removed=count)


@router.post(
    "/specialists/{id}/weekly-hours",
    summary="Add recurring weekly hours (their coming slots are published)",
    body=WeeklyHoursCreate,
    response=WeeklyHoursOut,
    status=201,
    roles=_EDITORS,
)
async def add_weekly_hours(ctx: Ctx) -> WeeklyHoursOut:
    rule, count = await hours.add_weekly_hours(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.body,
        now=ctx.clock.now(),
        default_slot_minutes=ctx.settings.default_slot_minutes,
    )
    return WeeklyHoursOut(
        id=rule.id,
        weekday=rule.weekday,
        starts=ctx.body.starts,
        ends=ctx.body.ends,
        time_zone=rule.time_zone,
        slot_minutes=rule.slot_minutes,
        slots=count,
        booked=0,
    )


@router.route(
    "DELETE",
    "/specialists/{id}/weekly-hours/{rule_id}",
    summary="Stop weekly hours (their coming slots go; refused while one is booked)",
    response=Removed,
    roles=_EDITORS,
)
async def remove_weekly_hours(ctx: Ctx) -> Removed:
    rule_id = ctx.path_id("rule_id")
    count = await hours.remove_weekly_hours(
        ctx.session, ctx.me, ctx.path_id(), rule_id, now=ctx.clock.now()
    )
    return Removed(id=rule_id, slots_removed=count)


@router.post(
    "/specialists/{id}/leave",
    summary="Take leave: its free slots go (refused while a consultation is booked in it)",
    body=LeaveCreate,
    response=LeaveOut,
    status=201,
    roles=_EDITORS,
)
async def add_leave(ctx: Ctx) -> LeaveOut:
    leave, removed = await hours.add_leave(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now()
    )
    return LeaveOut(
        id=leave.id,
        first_day=leave.first_day,
        last_day=leave.last_day,
        time_zone=leave.time_zone,
        slots_removed=removed,
    )


@router.route(
    "DELETE",
    "/specialists/{id}/leave/{leave_id}",
    summary="Cancel leave (the weekly hours of its days come back)",
    response=Removed,
    roles=_EDITORS,
)
async def remove_leave(ctx: Ctx) -> Removed:
    leave_id = ctx.path_id("leave_id")
    await hours.remove_leave(ctx.session, ctx.me, ctx.path_id(), leave_id, now=ctx.clock.now())
    return Removed(id=leave_id, slots_removed=0)
