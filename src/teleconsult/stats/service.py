"""Consultation statistics by specialty, read from the rollups (never the consultations).

The cost depends on the length of the range and the number of specialties, not on how many
consultations there are: a year by specialty reads about 12 month rows per specialty.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import Table, and_, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import field_error
from . import sketch
from .cells import ALL, COUNTERS, HISTOGRAMS, RESPONSE_TARGETS, SMALL_CELL, SUPPRESSED, Cell
from .cells import suppress as suppress_count
from .models import StatsRollup
from .periods import MAX_DAYS, Granularity, bucket, spans
from .schemas import PercentileError, SpecialtyStatsOut, SpecialtyStatsReport, StatsQuery

TABLE = cast(Table, StatsRollup.__table__)
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class StatsFilter:
    first: date
    last: date
    region: str | None = None
    facility: str | None = None
    granularity: Granularity | None = None


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
        raise field_error("to", "must not be before from")
    if (last - first).days + 1 > MAX_DAYS[query.granularity]:
        raise field_error(
            "granularity" if query.granularity else "from",
            f"a range of at most {MAX_DAYS[query.granularity]} days for this granularity",
        )
    return StatsFilter(
        first=first,
        last=last,
        region=query.region,
        facility=str(query.facility) if query.facility is not None else None,
        granularity=query.granularity,
    )


def _level(f: StatsFilter) -> Any:
    if f.facility is not None:
        conditions = [TABLE.c.facility == f.facility]
        if f.region is not None:
            conditions.append(TABLE.c.region == f.region)
        return and_(*conditions)
    return and_(TABLE.c.region == (f.region or ALL), TABLE.c.facility == ALL)


async def specialty_cells(session: AsyncSession, f: StatsFilter) -> list[SpecialtyCell]:
    """Aggregates per specialty (and period bucket), merged from rollup rows."""
    columns = (TABLE.c.specialty, TABLE.c.day, *(TABLE.c[c] for c in (*COUNTERS, *HISTOGRAMS)))
    # One index range scan per span (level, grain and days are the key's leading columns).
    stmt = union_all(
        *(
            select(literal(sign).label("sign"), *columns).where(
                _level(f), TABLE.c.grain == grain, TABLE.c.day >= start, TABLE.c.day <= end
            )
            for grain, start, end, sign in spans(f.first, f.last, f.granularity)
        )
    )
    merged: dict[tuple[str, date | None], list[int]] = {}
    decode = sketch.decode
    for sign, specialty, day, *values in await session.execute(stmt):
        key = (specialty, bucket(day, f.granularity))
        acc = merged.get(key)
        if acc is None:
            merged[key] = acc = [0] * 9
        if sign > 0:
            for i in range(6):
                acc[i] += values[i]
            for i in range(6, 9):
                if values[i]:
                    acc[i] += decode(values[i])
        else:
            for i in range(6):
                acc[i] -= values[i]
            for i in range(6, 9):
                if values[i]:
                    acc[i] -= decode(values[i])
    out = [SpecialtyCell(s, period, Cell(*acc)) for (s, period), acc in merged.items()]
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
    f = resolve(query, today)
    cells = await specialty_cells(session, f)
    return SpecialtyStatsReport(
        from_date=f.first,
        to_date=f.last,
        region=f.region,
        facility=query.facility,
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
