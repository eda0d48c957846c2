"""Who is overdue and who needs attention (pure): a visit, a measurement or the yearly
specialist review past due; a reading outside its target, alone or in a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .catalogue import out_of_target

# The readings in a row outside their target that make a run (the last three).
RUN = 3


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


@dataclass(frozen=True)
class Miss:
    """Why a reading puts the patient on the attention list: ``run`` when it ends ``count``
    readings in a row outside the target (at least ``RUN``), else ``single``."""

    reason: str
    count: int


def missed(
    readings: Sequence[tuple[float, float | None]], target: dict[str, Any], *, run: int = RUN
) -> Miss | None:
    """Whether the newest of ``readings`` (oldest first) misses ``target``, and how many
    readings in a row, ending with it, do."""
    count = 0
    for value, value2 in reversed(readings):
        if not out_of_target(target, value, value2):
            break
        count += 1
    if count == 0:
        return None
    return Miss("run" if count >= run else "single", count)
