from __future__ import annotations

from aiohttp import web

from ..api import Ctx, Router
from ..appkeys import STATS_CACHE
from ..codes import Role
from . import regions, service
from .cells import reporting_day
from .schemas import RegionStatsQuery, RegionStatsReport, SpecialtyStatsReport, StatsQuery

router = Router("stats")


@router.get(
    "/stats/specialties",
    read_only=True,
    summary='Consultation statistics by specialty (aggregates only; small cells as "<5")',
    query=StatsQuery,
    response=SpecialtyStatsReport,
    roles=[Role.admin],
)
async def specialties(ctx: Ctx) -> web.Response:
    cached = await service.cached_specialty_report(
        ctx.session, ctx.request.app[STATS_CACHE], ctx.query, today=reporting_day(ctx.clock.now())
    )
    return web.Response(text=cached.json, content_type="application/json")


@router.get(
    "/stats/specialties.csv",
    read_only=True,
    summary="The same statistics as CSV",
    query=StatsQuery,
    roles=[Role.admin],
    produces="text/csv",
)
async def specialties_csv(ctx: Ctx) -> web.Response:
    cached = await service.cached_specialty_report(
        ctx.session, ctx.request.app[STATS_CACHE], ctx.query, today=reporting_day(ctx.clock.now())
    )
    report = cached.report
    return web.Response(
        text=service.to_csv(report),
        content_type="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="stats-{report.from_date}-{report.to_date}.csv"'
            )
        },
    )


@router.get(
    "/stats/regions",
    read_only=True,
    summary='Consultation statistics by region and specialty (aggregates; small cells "<5")',
    query=RegionStatsQuery,
    response=RegionStatsReport,
    roles=[Role.admin],
)
async def by_region(ctx: Ctx) -> RegionStatsReport:
    q: RegionStatsQuery = ctx.query
    f = service.resolve(StatsQuery(**{"from": q.from_, "to": q.to}), reporting_day(ctx.clock.now()))
    return await regions.region_report(ctx.session, f)
