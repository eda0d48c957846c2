"""Reporting periods: which rollup rows cover a range of days, and period buckets."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from .cells import DAY, MONTH, month_of

ONE_DAY = timedelta(days=1)


class Granularity(StrEnum):
    day = "day"
    week = "week"
    month = "month"


# The longest range each granularity may ask for, so an answer stays small.
MAX_DAYS: dict[Granularity | None, int] = {
    Granularity.day: 366,
    Granularity.week: 5 * 366,
    Granularity.month: 20 * 366,
    None: 20 * 366,
}


def next_month(day: date) -> date:
    return (month_of(day) + timedelta(days=32)).replace(day=1)


# (grain, first day, last day, sign): rollup rows to add (+1) or subtract (-1).
Span = tuple[str, date, date, int]


def spans(first: date, last: date, granularity: Granularity | None) -> list[Span]:
    """Spans of rollup rows whose signed sum is exactly the days ``first..last``.

    Whole months come from month rows. A partial month at either end is read as its day
    rows, or, when fewer rows, as its month row minus the day rows outside the range
    (counters and histograms are sums, so they subtract exactly). A year is 12 rows per
    specialty, and never more than about 40 however it is cut. Day and week buckets need
    day rows throughout.
    """
    if granularity in (Granularity.day, Granularity.week):
        return [(DAY, first, last, 1)]
    out: list[Span] = []
    full_from: date | None = None
    full_until: date | None = None
    month = month_of(first)
    while month <= last:
        end = next_month(month) - ONE_DAY
        lo, hi = max(first, month), min(last, end)
        if (lo, hi) == (month, end):
            full_from = full_from or month
            full_until = month
        else:
            inside = (hi - lo).days + 1
            outside = (end - month).days + 1 - inside
            if 1 + outside < inside:
                out.append((MONTH, month, month, 1))
                if lo > month:
                    out.append((DAY, month, lo - ONE_DAY, -1))
                if hi < end:
                    out.append((DAY, hi + ONE_DAY, end, -1))
            else:
                out.append((DAY, lo, hi, 1))
        month = next_month(month)
    if full_from is not None and full_until is not None:
        out.insert(0, (MONTH, full_from, full_until, 1))
    return out


def bucket(day: date, granularity: Granularity | None) -> date | None:
    """The first day of the bucket a day falls in (weeks start on Monday)."""
    if granularity is None:
        return None
    if granularity == Granularity.day:
        return day
    if granularity == Granularity.week:
        return day - timedelta(days=day.weekday())
    return month_of(day)
