"""Consultation statistics by specialty, read from the rollups (never the consultations).

The cost depends on the length of the range and the number of specialties, not on how many
consultations there are: a year by specialty reads about 12 month rows per specialty.
"""

from __future__ import annotations

import csv
import functools
import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import field_error
from . import sketch
from .cache import CachedReport, ReportCache
from .cells import ALL, COUNTERS, HISTOGRAMS, RESPONSE_TARGETS, SMALL_CELL, SUPPRESSED, Cell
from .cells import suppress as suppress_count
from .models import StatsRollup
from .periods import MAX_DAYS, bucket, spans
from .schemas import (
    PercentileError,
    SpecialtyStatsOut,
    SpecialtyStatsReport,
    StatsFilter,
    StatsQuery,
)

TABLE = cast(Table, StatsRollup.__table__)
DEFAULT_DAYS = 365


@dataclass
class SpecialtyCell:
    """Unsuppressed aggregates of one specialty in one period bucket (internal only)."""

    specialty: str
    period: date | None
    cell: Cell


def resolve(query: StatsQuery, today: date) -> StatsFilter:
    """Defaults (the last 365 days) and range checks; errors name the field (422)."""
    last = query.to or today
    first = query.from_ or (last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise field_error("to", "must not be before from", code="range_reversed")
    if (last - first).days + 1 > MAX_DAYS[query.granularity]:
        raise field_error(
            "granularity" if query.granularity else "from",
            f"a range of at most {MAX_DAYS[query.granularity]} days for this granularity",
            code="range_too_long",
        )
    return StatsFilter(
        first=first,
        last=last,
        region=query.region,
        facility=str(query.facility) if query.facility is not None else None,
        granularity=query.granularity,
    )


def _level(by_facility: bool, in_region: bool) -> Any:
    """Which rows: one facility's (within a region, if given), else a region's or the
    country's (region ``*``)."""
    if by_facility:
        conditions = [TABLE.c.facility == bindparam("facility")]
        if in_region:
            conditions.append(TABLE.c.region == bindparam("region"))
        return and_(*conditions)
    return and_(TABLE.c.region == bindparam("region"), TABLE.c.facility == ALL)


_COLUMNS = (TABLE.c.specialty, TABLE.c.day, *(TABLE.c[c] for c in (*COUNTERS, *HISTOGRAMS)))


@functools.lru_cache(maxsize=64)
def _rollup_query(by_facility: bool, in_region: bool, shape: tuple[tuple[str, int], ...]) -> Any:
    """The rollup read for one shape of filter: built once, run with the dates as parameters.

    One index range scan per span (level, grain and days are the key's leading columns).
    """
    level = _level(by_facility, in_region)
    return union_all(
        *(
            select(literal(sign).label("sign"), *_COLUMNS).where(
                level,
                TABLE.c.grain == grain,
                TABLE.c.day >= bindparam(f"first_{i}"),
                TABLE.c.day <= bindparam(f"last_{i}"),
            )
            for i, (grain, sign) in enumerate(shape)
        )
    )


_FIRST_COUNTER = 3  # columns: sign, specialty, day, counters..., histograms...
_FIRST_HISTOGRAM = _FIRST_COUNTER + len(COUNTERS)
_WIDTH = _FIRST_HISTOGRAM + len(HISTOGRAMS)


def _merge(added: list[Any], subtracted: list[Any]) -> Cell:
    """One cell from its rollup rows: counters and histograms added up column by column."""
    plus = list(zip(*added, strict=True)) or [()] * _WIDTH
    minus = list(zip(*subtracted, strict=True)) or [()] * _WIDTH
    counters = (sum(plus[i]) - sum(minus[i]) for i in range(_FIRST_COUNTER, _FIRST_HISTOGRAM))
    histograms = (
        sketch.total(plus[i]) - sketch.total(minus[i]) for i in range(_FIRST_HISTOGRAM, _WIDTH)
    )
    return Cell(*counters, *histograms)


async def specialty_cells(session: AsyncSession, f: StatsFilter) -> list[SpecialtyCell]:
    """Aggregates per specialty (and period bucket), merged from rollup rows."""
    parts = spans(f.first, f.last, f.granularity)
    params: dict[str, Any] = {"region": f.region or ALL}
    if f.facility is not None:
        params["facility"] = f.facility
    for i, (_, start, end, _) in enumerate(parts):
        params[f"first_{i}"] = start
        params[f"last_{i}"] = end
    stmt = _rollup_query(
        f.facility is not None,
        f.region is not None,
        tuple((grain, sign) for grain, _, _, sign in parts),
    )
    connection = await session.connection()
    # (specialty, period) → rows to add, rows to subtract
    groups: dict[tuple[str, date | None], tuple[list[Any], list[Any]]] = {}
    granularity = f.granularity
    for row in await connection.execute(stmt, params):
        key = (row[1], bucket(row[2], granularity))
        group = groups.get(key)
        if group is None:
            groups[key] = group = ([], [])
        group[row[0] < 0].append(row)
    out = [SpecialtyCell(s, period, _merge(*rows)) for (s, period), rows in groups.items()]
    # Periods in order, then the busiest specialties first.
    out.sort(key=lambda c: (c.period or date.min, -c.cell.requested, c.specialty))
    return [c for c in out if c.cell.requested > 0]


def _time(summary: sketch.Summary, q: Fraction) -> float | str | None:
    if summary.n == 0:
        return None
    if summary.n < SMALL_CELL:
        return SUPPRESSED
    value = summary.quantile(q)
    return None if value is None else round(value, 1)


def present(c: SpecialtyCell) -> SpecialtyStatsOut:
    """What may be shown: aggregates only, small cells suppressed."""
    cell = c.cell
    wait = sketch.Summary(cell.wait)
    share: float | str | None = None
    if cell.answered >= SMALL_CELL:
        share = round(cell.answered_in_target / cell.answered, 4)
    elif cell.answered > 0:
        share = SUPPRESSED
    return SpecialtyStatsOut.model_validate(
        {
            "specialty": c.specialty,
            "period": c.period,
            "requested": suppress_count(cell.requested),
            "completed": suppress_count(cell.completed),
            "cancelled": suppress_count(cell.cancelled),
            "no_show": suppress_count(cell.no_show),
            "wait_median_s": _time(wait, sketch.MEDIAN),
            "wait_p90_s": _time(wait, sketch.P90),
            "duration_median_s": _time(sketch.Summary(cell.duration), sketch.MEDIAN),
            "turnaround_median_s": _time(sketch.Summary(cell.turnaround), sketch.MEDIAN),
            "answered_within_target": share,
        }
    )


async def specialty_report(
    session: AsyncSession, query: StatsQuery, *, today: date
) -> SpecialtyStatsReport:
    """The statistics table by specialty for the admin dashboard, CSV export and CLI."""
    return await report_for(session, resolve(query, today))


async def cached_specialty_report(
    session: AsyncSession, cache: ReportCache, query: StatsQuery, *, today: date
) -> CachedReport:
    """:func:`specialty_report` through this process's cache (stats/cache.py)."""
    return await cached_report_for(session, cache, resolve(query, today))


async def cached_report_for(
    session: AsyncSession, cache: ReportCache, f: StatsFilter
) -> CachedReport:
    """The report of a resolved filter, from the cache when it holds one: exact for every
    change committed in this process, and for changes committed elsewhere once the bus has
    delivered their invalidation (at worst after the cache's TTL)."""
    cached = cache.get(f)
    if cached is not None:
        return cached
    # Taken before the rollups are read: a change committed meanwhile keeps this result out.
    generation = cache.generation
    return cache.put(f, generation, await report_for(session, f))


async def report_for(session: AsyncSession, f: StatsFilter) -> SpecialtyStatsReport:
    """The report of a resolved filter, read from the rollups."""
    cells = await specialty_cells(session, f)
    return SpecialtyStatsReport(
        from_date=f.first,
        to_date=f.last,
        region=f.region,
        facility=uuid.UUID(f.facility) if f.facility is not None else None,
        granularity=f.granularity,
        targets_s={u: t.total_seconds() for u, t in RESPONSE_TARGETS.items()},
        percentile_error=PercentileError(
            relative=sketch.RELATIVE_ERROR, absolute_seconds=sketch.ABSOLUTE_ERROR_SECONDS
        ),
        items=[present(c) for c in cells],
    )


CSV_COLUMNS = list(SpecialtyStatsOut.model_fields)


def to_csv(report: SpecialtyStatsReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in report.items:
        row = item.model_dump(mode="json")
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()
