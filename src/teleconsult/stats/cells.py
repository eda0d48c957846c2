"""What one consultation adds to the statistics, as pure rules.

A consultation is counted in the cohort of the day it was requested (in national time), for
its specialty and for the region and facility of its patient. Every counter and histogram
of that cohort is a sum over its consultations, so a change to a consultation is applied to
the rollups as ``contribution(after) − contribution(before)``: whatever the change, the
rollup stays the sum of its rows.

Measures:

- waiting time: requested → started (video call started, or async case claimed);
- call duration, video only: the time at least two participants were connected in the call
  (``call_seconds``, kept when the consultation completes); started → ended when the call
  was never joined through us (e.g. generated history);
- async turnaround: requested → answered (ended), async only;
- answered within target: the response (video: start; async: answer) came within the
  urgency's target (:data:`RESPONSE_TARGETS`); the share is over answered consultations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..errors import field_error
from . import sketch

# Kazakhstan keeps one time zone, UTC+5, since March 2024: statistics days are its days.
REPORTING_TZ = timezone(timedelta(hours=5))

# How soon each urgency should be answered; the only place these targets are defined.
RESPONSE_TARGETS: dict[str, timedelta] = {
    "emergency": timedelta(hours=1),
    "urgent": timedelta(hours=24),
    "routine": timedelta(days=14),
}

# Rollup rows exist at three levels: the whole country, one region, one facility.
ALL = "*"
NONE = ""

DAY = "day"
MONTH = "month"

# Cells counting fewer consultations than this are shown as "<5" (never 1-4 exactly).
SMALL_CELL = 5
SUPPRESSED = "<5"


@dataclass(frozen=True, slots=True)
class Facts:
    """The fields of a consultation the statistics depend on (never the patient)."""

    specialty: str
    region: str | None
    facility_id: uuid.UUID | None
    mode: str
    urgency: str
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    call_seconds: float | None = None


def facts_of(consultation: Any) -> Facts:
    """Snapshot a consultation (or any object with the same attributes)."""
    return Facts(
        specialty=consultation.specialty,
        region=consultation.region,
        facility_id=consultation.facility_id,
        mode=consultation.mode,
        urgency=consultation.urgency,
        status=consultation.status,
        created_at=consultation.created_at,
        started_at=consultation.started_at,
        ended_at=consultation.ended_at,
        call_seconds=consultation.call_seconds,
    )


def reporting_day(moment: datetime) -> date:
    return moment.astimezone(REPORTING_TZ).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def start_of(day: date) -> datetime:
    """The instant a national calendar day begins."""
    return datetime.combine(day, time(), tzinfo=REPORTING_TZ)


def report_days(from_: date | None, to: date | None, today: date) -> tuple[date, date]:
    """A report's first and last day: as asked, else the twelve months up to ``to`` (today
    by default), from the first day of the first; a range that ends before it begins is a
    422 on ``to``."""
    last = to or today
    if from_ is not None:
        if from_ > last:
            raise field_error("to", "must not be before from", "range_reversed")
        return from_, last
    first = month_of(last)
    return next_month(first.replace(year=first.year - 1)), last


@dataclass(slots=True)
class Cell:
    """Counters and packed histograms of a set of consultations; cells add up."""

    requested: int = 0
    completed: int = 0
    cancelled: int = 0
    no_show: int = 0
    answered: int = 0
    answered_in_target: int = 0
    wait: int = 0
    duration: int = 0
    turnaround: int = 0

    def add(self, other: Cell, sign: int = 1) -> None:
        # Spelled out: this runs once per consultation when a history is generated.
        self.requested += sign * other.requested
        self.completed += sign * other.completed
        self.cancelled += sign * other.cancelled
        self.no_show += sign * other.no_show
        self.answered += sign * other.answered
        self.answered_in_target += sign * other.answered_in_target
        self.wait += sign * other.wait
        self.duration += sign * other.duration
        self.turnaround += sign * other.turnaround

    def is_zero(self) -> bool:
        return not any(getattr(self, f) for f in _FIELDS)


_FIELDS = tuple(f.name for f in fields(Cell))
COUNTERS = ("requested", "completed", "cancelled", "no_show", "answered", "answered_in_target")
HISTOGRAMS = ("wait", "duration", "turnaround")


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


@dataclass(frozen=True, slots=True)
class Measures:
    """One consultation's counters (in :data:`COUNTERS` order) and its durations."""

    counters: tuple[int, int, int, int, int, int]
    wait: float | None
    duration: float | None
    turnaround: float | None


def measures(f: Facts) -> Measures:
    """What a single consultation contributes, in its current state."""
    wait = duration = turnaround = None
    if f.started_at is not None:
        wait = _seconds(f.created_at, f.started_at)
    response: datetime | None = None
    if f.mode == "video":
        response = f.started_at
        if f.call_seconds is not None:
            duration = f.call_seconds
        elif f.started_at is not None and f.ended_at is not None:
            duration = _seconds(f.started_at, f.ended_at)
    elif f.ended_at is not None:
        response = f.ended_at
        turnaround = _seconds(f.created_at, f.ended_at)
    answered = in_target = 0
    if response is not None:
        answered = 1
        target = RESPONSE_TARGETS.get(f.urgency)
        in_target = int(target is not None and response - f.created_at <= target)
    counters = (
        1,
        int(f.status == "completed"),
        int(f.status == "cancelled"),
        int(f.status == "no_show"),
        answered,
        in_target,
    )
    return Measures(counters, wait, duration, turnaround)


def contribution(f: Facts) -> Cell:
    """The cell of a single consultation in its current state."""
    m = measures(f)
    return Cell(
        *m.counters,
        wait=0 if m.wait is None else sketch.one(m.wait),
        duration=0 if m.duration is None else sketch.one(m.duration),
        turnaround=0 if m.turnaround is None else sketch.one(m.turnaround),
    )


# (grain, day, specialty, region, facility): the primary key of a rollup row.
Key = tuple[str, date, str, str, str]


def finest_key(f: Facts) -> Key:
    """The facility × day row of a consultation."""
    facility = str(f.facility_id) if f.facility_id is not None else NONE
    return (DAY, reporting_day(f.created_at), f.specialty, f.region or NONE, facility)


def expand(key: Key) -> list[Key]:
    """The six rows a facility × day row counts in: 3 levels × (day, month)."""
    _, day, specialty, region, facility = key
    levels = ((ALL, ALL), (region, ALL), (region, facility))
    return [
        (grain, when, specialty, r, fac)
        for grain, when in ((DAY, day), (MONTH, month_of(day)))
        for r, fac in levels
    ]


def keys_of(f: Facts) -> list[Key]:
    return expand(finest_key(f))


def delta(before: Facts | None, after: Facts | None) -> dict[Key, Cell]:
    """What to add to each rollup row when a consultation goes from ``before`` to ``after``."""
    changes: dict[Key, Cell] = {}
    for facts, sign in ((before, -1), (after, 1)):
        if facts is None:
            continue
        cell = contribution(facts)
        for key in keys_of(facts):
            changes.setdefault(key, Cell()).add(cell, sign)
    return {key: cell for key, cell in changes.items() if not cell.is_zero()}


def roll_up(finest: dict[Key, Cell]) -> dict[Key, Cell]:
    """All rollup rows from facility × day cells (used to fill rollups in bulk)."""
    rows: dict[Key, Cell] = {}
    for key, cell in finest.items():
        for target in expand(key):
            row = rows.get(target)
            if row is None:
                rows[target] = row = Cell()
            row.add(cell)
    return rows


def suppress(count: int) -> int | str:
    """Small-cell suppression: 1-4 consultations could single someone out, so "<5"."""
    return SUPPRESSED if 0 < count < SMALL_CELL else count
