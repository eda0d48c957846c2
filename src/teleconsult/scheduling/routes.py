from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from . import service
from .schemas import AvailabilityCreate, AvailabilityOut, SlotOut, SlotQuery

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
