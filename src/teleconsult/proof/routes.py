from __future__ import annotations

from aiohttp import web

from ..api import Ctx, Page, Router
from ..codes import Role
from ..stats.cells import reporting_day
from . import report
from .schemas import FlagOut, FlagQuery, Report, ReportQuery, ResolveIn

router = Router("proof")


@router.get(
    "/proof/report",
    read_only=True,
    summary="Consultations declared but not delivered, by month, facility and specialist",
    query=ReportQuery,
    response=Report,
    roles=[Role.admin],
)
async def proof_report(ctx: Ctx) -> Report:
    return await report.report(ctx.session, ctx.query, reporting_day(ctx.clock.now()))


@router.get(
    "/proof/report.csv",
    read_only=True,
    summary="The same report as CSV",
    query=ReportQuery,
    roles=[Role.admin],
    produces="text/csv",
)
async def proof_report_csv(ctx: Ctx) -> web.Response:
    rep = await report.report(ctx.session, ctx.query, reporting_day(ctx.clock.now()))
    return web.Response(
        text=report.to_csv(rep),
        content_type="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="not-delivered-{rep.from_date}-{rep.to_date}.csv"'
            )
        },
    )


@router.get(
    "/proof/flags",
    read_only=True,
    summary="Flagged consultations with their evidence (connected seconds, join and leave times)",
    query=FlagQuery,
    response=Page[FlagOut],
    roles=[Role.admin],
)
async def proof_flags(ctx: Ctx) -> Page[FlagOut]:
    items, nxt = await report.list_flags(ctx.session, ctx.query)
    return Page[FlagOut](items=items, next=nxt)


@router.post(
    "/proof/flags/{id}/resolve",
    summary="Resolve a flag with a reason (audited)",
    body=ResolveIn,
    response=FlagOut,
    roles=[Role.admin],
)
async def resolve_flag(ctx: Ctx) -> FlagOut:
    body: ResolveIn = ctx.body
    return await report.resolve(
        ctx.session, ctx.me, ctx.path_id(), body.reason, now=ctx.clock.now(), client=ctx.client
    )
