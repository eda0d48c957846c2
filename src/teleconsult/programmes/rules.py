"""Who is overdue (pure): a visit, a measurement or the yearly specialist review past due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Standing:
    visit_due: datetime
    measurement_due: datetime | None
    missing_measures: list[str]
    review_due: datetime | None
    overdue: list[str]
    overdue_since: datetime | None


def standing(
    *,
    enrolled_at: datetime,
    visit_interval_days: int,
    review_interval_days: int,
    review_specialty: str | None,
    targets: list[dict[str, Any]],
    last_visit: datetime | None,
    last_review: datetime | None,
    last_by_measure: dict[str, datetime],
    now: datetime,
) -> Standing:
    """Each due date counts from the last time it was done, or from enrolment."""
    interval = timedelta(days=visit_interval_days)
    visit_due = max(last_visit or enrolled_at, enrolled_at) + interval
    expected = list(dict.fromkeys(t["measure"] for t in targets))
    dues = {m: max(last_by_measure.get(m, enrolled_at), enrolled_at) + interval for m in expected}
    measurement_due = min(dues.values()) if dues else None
    missing = sorted(m for m, due in dues.items() if due <= now)
    review_due = None
    if review_specialty is not None:
        review_due = max(last_review or enrolled_at, enrolled_at) + timedelta(
            days=review_interval_days
        )
    past = {
        "visit": visit_due if visit_due <= now else None,
        "measurement": measurement_due if missing else None,
        "review": review_due if review_due is not None and review_due <= now else None,
    }
    overdue = [k for k, v in past.items() if v is not None]
    since = min((v for v in past.values() if v is not None), default=None)
    return Standing(visit_due, measurement_due, missing, review_due, overdue, since)
