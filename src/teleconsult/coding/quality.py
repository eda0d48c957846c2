"""How good the suggestions are in use: measured from what was suggested for each note and
what its author chose (``coding_feedback``), never from the notes' text.

For the notes written with suggestions, a note counts at top 1 when the first code suggested
is one of the codes its author chose, at top 3 when one of the first three is, and at top 5
when any suggested code is. A chosen code counts as suggested when it was offered exactly
(a neighbouring code of the same category is a different choice). Months are national
(UTC+5) calendar months, by when the note was written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..stats.cells import month_of, report_days, reporting_day, start_of
from .models import CodingFeedback
from .schemas import QualityOut, QualityQuery, QualityRow


@dataclass
class Tally:
    notes: int = 0
    without_suggestions: int = 0
    top1: int = 0
    top3: int = 0
    top5: int = 0
    chosen: int = 0
    chosen_suggested: int = 0

    def add(self, suggested: Sequence[str], chosen: Sequence[str]) -> None:
        picked = set(chosen)
        self.notes += 1
        self.chosen += len(picked)
        self.chosen_suggested += len(picked & set(suggested))
        if not suggested:
            self.without_suggestions += 1
            return
        self.top1 += suggested[0] in picked
        self.top3 += bool(picked & set(suggested[:3]))
        self.top5 += bool(picked & set(suggested[:5]))

    def row(self, month: date | None) -> QualityRow:
        offered = self.notes - self.without_suggestions

        def share(n: int, of: int) -> float | None:
            return round(n / of, 4) if of else None

        return QualityRow(
            month=month,
            notes=self.notes,
            notes_without_suggestions=self.without_suggestions,
            top1=self.top1,
            top3=self.top3,
            top5=self.top5,
            top1_share=share(self.top1, offered),
            top3_share=share(self.top3, offered),
            top5_share=share(self.top5, offered),
            chosen_codes=self.chosen,
            chosen_from_suggestions=self.chosen_suggested,
            chosen_from_suggestions_share=share(self.chosen_suggested, self.chosen),
        )


def measure(
    rows: Iterable[tuple[datetime, Sequence[str], Sequence[str]]],
) -> tuple[QualityRow, list[QualityRow]]:
    """The whole period and each month (newest first) of ``(written_at, suggested, chosen)``."""
    total = Tally()
    months: dict[date, Tally] = defaultdict(Tally)
    for written_at, suggested, chosen in rows:
        total.add(suggested, chosen)
        months[month_of(reporting_day(written_at))].add(suggested, chosen)
    return total.row(None), [months[m].row(m) for m in sorted(months, reverse=True)]


async def quality(session: AsyncSession, q: QualityQuery, today: date) -> QualityOut:
    start, to = report_days(q.from_, q.to, today)
    rows = await session.execute(
        select(CodingFeedback.created_at, CodingFeedback.suggested, CodingFeedback.chosen).where(
            CodingFeedback.created_at >= start_of(start),
            CodingFeedback.created_at < start_of(to + timedelta(days=1)),
        )
    )
    total, months = measure((at, list(s or []), list(c or [])) for at, s, c in rows)
    return QualityOut(from_date=start, to_date=to, total=total, months=months)
