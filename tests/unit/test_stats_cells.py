from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from teleconsult.stats import sketch
from teleconsult.stats.cells import (
    ALL,
    DAY,
    MONTH,
    RESPONSE_TARGETS,
    Cell,
    Facts,
    contribution,
    delta,
    finest_key,
    keys_of,
    roll_up,
    suppress,
)
from teleconsult.stats.periods import Granularity, bucket, next_month, spans

FACILITY = uuid.UUID("00000000-0000-4000-8000-000000000001")
T0 = datetime(2026, 3, 31, 20, 30, tzinfo=UTC)  # 1 April 01:30 in national time


def facts(**kw: object) -> Facts:
    base: dict[str, object] = {
        "specialty": "cardiology",
        "region": "pavlodar",
        "facility_id": FACILITY,
        "mode": "video",
        "urgency": "routine",
        "status": "scheduled",
        "created_at": T0,
        "started_at": None,
        "ended_at": None,
    }
    return Facts(**(base | kw))  # type: ignore[arg-type]


def test_a_consultation_counts_on_its_national_day_at_three_levels_and_two_grains() -> None:
    keys = keys_of(facts())
    assert finest_key(facts()) == (DAY, date(2026, 4, 1), "cardiology", "pavlodar", str(FACILITY))
    assert set(keys) == {
        (DAY, date(2026, 4, 1), "cardiology", ALL, ALL),
        (DAY, date(2026, 4, 1), "cardiology", "pavlodar", ALL),
        (DAY, date(2026, 4, 1), "cardiology", "pavlodar", str(FACILITY)),
        (MONTH, date(2026, 4, 1), "cardiology", ALL, ALL),
        (MONTH, date(2026, 4, 1), "cardiology", "pavlodar", ALL),
        (MONTH, date(2026, 4, 1), "cardiology", "pavlodar", str(FACILITY)),
    }


def test_no_facility_is_its_own_row() -> None:
    key = finest_key(facts(facility_id=None, region=None))
    assert key[3:] == ("", "")


def test_completed_video_call_measures_wait_duration_and_target() -> None:
    started = T0 + timedelta(hours=30)
    cell = contribution(
        facts(status="completed", started_at=started, ended_at=started + timedelta(minutes=18))
    )
    assert (cell.requested, cell.completed, cell.answered, cell.answered_in_target) == (1, 1, 1, 1)
    assert cell.wait == sketch.one(30 * 3600)
    assert cell.duration == sketch.one(18 * 60)
    assert cell.turnaround == 0


def test_a_call_joined_through_us_measures_its_connected_time_not_started_to_ended() -> None:
    started = T0 + timedelta(hours=30)
    completed = facts(status="completed", started_at=started, ended_at=started + timedelta(hours=1))
    joined = facts(
        status="completed",
        started_at=started,
        ended_at=started + timedelta(hours=1),
        call_seconds=600.0,
    )
    assert contribution(completed).duration == sketch.one(3600)
    assert contribution(joined).duration == sketch.one(600)
    # Two people never connected at once: a call of no length, still counted.
    assert contribution(facts(status="completed", call_seconds=0.0)).duration == sketch.one(0)
    # Completing with the connected time is one change like any other.
    before = facts(status="in_progress", started_at=started)
    changes = delta(before, joined)
    assert all(c.duration == sketch.one(600) for c in changes.values())


def test_async_case_measures_turnaround_against_the_urgency_target() -> None:
    late = T0 + RESPONSE_TARGETS["urgent"] + timedelta(seconds=1)
    cell = contribution(
        facts(
            mode="async",
            urgency="urgent",
            status="completed",
            started_at=T0 + timedelta(hours=2),
            ended_at=late,
        )
    )
    assert (cell.answered, cell.answered_in_target) == (1, 0)
    assert cell.turnaround == sketch.one((late - T0).total_seconds())
    assert cell.duration == 0


def test_delta_of_a_transition_only_holds_what_changed() -> None:
    before = facts()
    after = facts(status="cancelled")
    changes = delta(before, after)
    assert set(changes) == set(keys_of(before))
    assert all(c == Cell(cancelled=1) for c in changes.values())
    assert delta(before, before) == {}


def test_roll_up_matches_applying_each_delta() -> None:
    history = [facts(), facts(status="no_show"), facts(region="astana", facility_id=None)]
    finest: dict = {}
    applied: dict = {}
    for f in history:
        finest.setdefault(finest_key(f), Cell()).add(contribution(f))
        for key, cell in delta(None, f).items():
            applied.setdefault(key, Cell()).add(cell)
    assert roll_up(finest) == applied


def test_small_cells_are_suppressed_but_zero_is_shown() -> None:
    assert [suppress(n) for n in (0, 1, 4, 5, 120)] == [0, "<5", "<5", 5, 120]


def test_spans_use_whole_months_and_the_fewest_edge_rows() -> None:
    assert spans(date(2025, 1, 1), date(2025, 12, 31), None) == [
        (MONTH, date(2025, 1, 1), date(2025, 12, 1), 1)
    ]
    assert spans(date(2025, 1, 20), date(2025, 3, 10), Granularity.month) == [
        (MONTH, date(2025, 2, 1), date(2025, 2, 1), 1),
        (DAY, date(2025, 1, 20), date(2025, 1, 31), 1),
        (DAY, date(2025, 3, 1), date(2025, 3, 10), 1),
    ]
    # 25 of 30 days: the month minus the 5 days outside.
    assert spans(date(2025, 11, 3), date(2025, 11, 27), None) == [
        (MONTH, date(2025, 11, 1), date(2025, 11, 1), 1),
        (DAY, date(2025, 11, 1), date(2025, 11, 2), -1),
        (DAY, date(2025, 11, 28), date(2025, 11, 30), -1),
    ]
    assert spans(date(2025, 1, 1), date(2025, 2, 5), Granularity.week) == [
        (DAY, date(2025, 1, 1), date(2025, 2, 5), 1)
    ]


def test_buckets() -> None:
    day = date(2025, 5, 15)  # a Thursday
    assert bucket(day, None) is None
    assert bucket(day, Granularity.day) == day
    assert bucket(day, Granularity.week) == date(2025, 5, 12)
    assert bucket(day, Granularity.month) == date(2025, 5, 1)


@given(
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.integers(0, 800),
    st.sampled_from([None, *Granularity]),
)
def test_spans_cover_every_day_of_the_range_exactly_once(
    first: date, length: int, granularity: Granularity | None
) -> None:
    last = first + timedelta(days=length)
    weight: Counter[date] = Counter()
    rows = 0
    for grain, start, end, sign in spans(first, last, granularity):
        day = start
        while day <= end:
            rows += 1
            if grain == MONTH:
                assert day.day == 1
                for i in range((next_month(day) - day).days):
                    weight[day + timedelta(days=i)] += sign
                day = next_month(day)
            else:
                weight[day] += sign
                day += timedelta(days=1)
    assert +weight == Counter(first + timedelta(days=i) for i in range(length + 1))
    assert not -weight
    if granularity in (None, Granularity.month):
        assert rows <= length // 28 + 2 + 2 * 16
