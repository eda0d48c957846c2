"""How long a call was connected: at least two different people in it at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from teleconsult.calls.durations import connected_seconds

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
GP, SPECIALIST, PATIENT = (uuid.UUID(int=i) for i in (1, 2, 3))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_nobody_joined_is_none_and_one_person_alone_is_zero() -> None:
    assert connected_seconds([], at(30)) is None
    assert connected_seconds([(GP, at(0), at(20))], at(30)) == 0


def test_only_the_overlap_of_two_people_counts() -> None:
    stays = [(GP, at(0), at(15)), (SPECIALIST, at(2), at(12))]
    assert connected_seconds(stays, at(20)) == 10 * 60


def test_a_reconnection_of_the_same_person_is_not_a_conversation() -> None:
    # The GP's new connection joins a moment before the old one is closed.
    stays = [(GP, at(0), at(5.5)), (GP, at(5), at(9)), (SPECIALIST, at(7), at(20))]
    assert connected_seconds(stays, at(30)) == 2 * 60


def test_gaps_are_left_out_and_a_third_person_adds_nothing() -> None:
    stays = [
        (GP, at(0), at(30)),
        (SPECIALIST, at(1), at(6)),
        (SPECIALIST, at(10), at(20)),
        (PATIENT, at(4), at(12)),
    ]
    # Two or more people: 1-6 (GP+specialist), 6-10 (GP+patient until 12), 10-20.
    assert connected_seconds(stays, at(40)) == 19 * 60


def test_stays_still_open_count_up_to_the_end_and_nothing_after_it() -> None:
    stays = [(GP, at(0), None), (SPECIALIST, at(5), None), (PATIENT, at(40), at(50))]
    assert connected_seconds(stays, at(25)) == 20 * 60


@given(
    st.lists(
        st.tuples(
            st.sampled_from([GP, SPECIALIST, PATIENT]), st.integers(0, 100), st.integers(0, 60)
        ),
        max_size=8,
    )
)
def test_matches_counting_minute_by_minute(raw: list[tuple[uuid.UUID, int, int]]) -> None:
    stays = [(user, at(start), at(start + length)) for user, start, length in raw]
    expected = sum(
        60
        for minute in range(0, 200)
        if len({u for u, start, length in raw if start <= minute < start + length}) >= 2
    )
    got = connected_seconds(stays, at(200))
    assert got == (expected if raw else None)
