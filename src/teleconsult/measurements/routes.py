from __future__ import annotations

from typing import Any

from ..api import Ctx, Router
from ..codes import Role
from . import service
from .schemas import AttentionList, MeasurementIn, MeasurementOut, TrendOut, TrendQuery

router = Router("measurements")


@router.post(
    "/patients/{id}/measurements",
    summary="Record a measurement (the GP, or the patient at home)",
    body=MeasurementIn,
    response=MeasurementOut,
    status=201,
    roles=[Role.gp, Role.patient],
)
async def record(ctx: Ctx) -> MeasurementOut:
    return await service.record_measurement(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.get(
    "/patients/{id}/measurements",
    summary="One measurement's trend, with the programmes' targets",
    query=TrendQuery,
    response=TrendOut,
    roles=[Role.gp, Role.specialist, Role.patient],
)
async def trend(ctx: Ctx) -> TrendOut:
    return await service.trend(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.query.measure,
        now=ctx.clock.now(),
        client=ctx.client,
    )


@router.get(
    "/attention",
    summary="Patients whose measurements missed their targets",
    response=AttentionList,
    roles=[Role.gp],
    read_only=True,
)
async def attention(ctx: Ctx) -> AttentionList:
    return AttentionList(items=await service.attention_list(ctx.session, ctx.me))


@router.post(
    "/attention/{id}/resolve",
    summary="Mark a patient's out-of-target readings as seen",
    roles=[Role.gp],
)
async def resolve(ctx: Ctx) -> dict[str, Any]:
    await service.resolve(ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now())
    return {"ok": True}
