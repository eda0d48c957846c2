"""Why a reading puts a patient on the attention list: one value outside the target, or the
last readings all outside it (a run)."""

from __future__ import annotations

from teleconsult.programmes.catalogue import target
from teleconsult.programmes.rules import RUN, Miss, missed

BP = target("bp", high=140, high2=90)
SPO2 = target("spo2", low=92)


def test_a_reading_within_the_target_is_no_miss() -> None:
    assert missed([], BP) is None
    assert missed([(150, 95), (130, 80)], BP) is None


def test_one_reading_outside_the_target() -> None:
    assert missed([(130, 80), (150, 85)], BP) == Miss("single", 1)
    assert missed([(130, 80), (150, 85), (132, 95)], BP) == Miss("single", 2)
    assert missed([(95, None), (90, None)], SPO2) == Miss("single", 1)


def test_the_last_readings_all_outside_the_target_make_a_run() -> None:
    assert RUN == 3
    assert missed([(150, 95), (145, 85), (138, 92)], BP) == Miss("run", 3)
    assert missed([(120, 80), (150, 95), (145, 85), (138, 92), (141, 70)], BP) == Miss("run", 4)
    # A reading back within the target ends the run: the one after it is counted alone.
    assert missed([(150, 95), (145, 85), (130, 80), (150, 95)], BP) == Miss("single", 1)
    assert missed([(89, None), (88, None)], SPO2, run=2) == Miss("run", 2)


def test_a_target_without_bounds_is_never_missed() -> None:
    assert missed([(300, None)] * 5, target("weight")) is None
