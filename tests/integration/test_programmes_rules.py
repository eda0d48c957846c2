"""The overdue rule and the target check, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from teleconsult.programmes.catalogue import covers, out_of_target, target
from teleconsult.programmes.rules import Standing, standing

START = datetime(2030, 1, 1, tzinfo=UTC)


def _standing(now: datetime, **kw: Any) -> Standing:
    values: dict[str, Any] = {
        "enrolled_at": START,
        "visit_interval_days": 90,
        "review_interval_days": 365,
        "review_specialty": "cardiology",
        "targets": [target("bp", high=140, high2=90), target("pulse", low=50, high=100)],
        "last_visit": None,
        "last_review": None,
        "last_by_measure": {},
        "now": now,
    }
    return standing(**(values | kw))


def test_nothing_is_due_right_after_enrolment() -> None:
    s = _standing(START + timedelta(days=89))
    assert s.overdue == [] and s.overdue_since is None
    assert s.visit_due == START + timedelta(days=90)


def test_each_due_date_counts_from_the_last_time_it_was_done() -> None:
    now = START + timedelta(days=400)
    s = _standing(
        now,
        last_visit=START + timedelta(days=350),
        last_review=START + timedelta(days=350),
        last_by_measure={"bp": START + timedelta(days=380)},
    )
    assert s.overdue == ["measurement"]
    assert s.missing_measures == ["pulse"]
    assert s.overdue_since == START + timedelta(days=90)
    s = _standing(now)
    assert s.overdue == ["visit", "measurement", "review"]
    assert _standing(now, review_specialty=None).review_due is None


def test_targets_and_codes() -> None:
    bp = target("bp", high=140, high2=90)
    assert not out_of_target(bp, 139, 89)
    assert out_of_target(bp, 140, 80) and out_of_target(bp, 120, 90)
    spo2 = target("spo2", low=92)
    assert out_of_target(spo2, 91, None) and not out_of_target(spo2, 92, None)
    assert not out_of_target(target("weight"), 300, None)
    assert covers(["I10", "I11"], "I11.9") and covers(["E11"], "e11.65")
    assert not covers(["I10"], "I20.0")
