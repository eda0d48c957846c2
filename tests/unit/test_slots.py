from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleconsult.scheduling.slots import derive_slots, overlaps

T0 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def test_window_is_cut_into_back_to_back_slots() -> None:
    slots = derive_slots(T0, T0 + timedelta(hours=1), 20)
    assert slots == [
        (T0, T0 + timedelta(minutes=20)),
        (T0 + timedelta(minutes=20), T0 + timedelta(minutes=40)),
        (T0 + timedelta(minutes=40), T0 + timedelta(minutes=60)),
    ]


def test_short_remainder_is_dropped() -> None:
    assert len(derive_slots(T0, T0 + timedelta(minutes=50), 20)) == 2


def test_inverted_window_is_refused() -> None:
    with pytest.raises(ValueError):
        derive_slots(T0, T0, 20)


@given(minutes=st.integers(5, 240), length=st.integers(1, 24 * 60))
def test_slots_never_overlap_and_stay_inside(minutes: int, length: int) -> None:
    end = T0 + timedelta(minutes=length)
    slots = derive_slots(T0, end, minutes)
    assert len(slots) == length // minutes
    for (a0, a1), (b0, b1) in itertools.pairwise(slots):
        assert a1 == b0
        assert not overlaps(a0, a1, b0, b1)
    assert all(s >= T0 and e <= end for s, e in slots)


def test_overlap_is_half_open() -> None:
    h = timedelta(hours=1)
    assert overlaps(T0, T0 + h, T0 + h / 2, T0 + 2 * h)
    assert not overlaps(T0, T0 + h, T0 + h, T0 + 2 * h)
