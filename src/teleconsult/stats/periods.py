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


def spans(first: date, last: date, granularity: Granularity | None) -> list[tuple[str, date, date]]:
    """(grain, first day, last day) spans of rollup rows that cover ``first..last`` exactly.

    Whole months come from month rows and only the partial months at either end from day
    rows, so a year is read as 12 rows per specialty (at most ~72 when it starts and ends
    mid-month). Day and week buckets need day rows throughout.
    """
    if granularity in (Granularity.day, Granularity.week):
        return [(DAY, first, last)]
    full_from = first if first.day == 1 else next_month(first)
    after = last + ONE_DAY
    full_until = month_of(last) if after.day == 1 else month_of(month_of(last) - ONE_DAY)
    if full_from > full_until:
        return [(DAY, first, last)]
    out = [(MONTH, full_from, full_until)]
    if first < full_from:
        out.append((DAY, first, full_from - ONE_DAY))
    tail = next_month(full_until)
    if tail <= last:
        out.append((DAY, tail, last))
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
