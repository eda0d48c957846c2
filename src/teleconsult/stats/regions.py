"""Consultation statistics by region and specialty: the region × specialty table.

Read from the region-level rollups (facility ``*``), like the table by specialty: the cost
depends on the range and the number of (region, specialty) pairs, never on how many
consultations there are. Small cells are suppressed the same way ("<5").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from .cells import ALL, SUPPRESSED, Cell
from .periods import spans
from .schemas import RegionStatsOut, RegionStatsReport, StatsFilter
from .service import _COLUMNS, TABLE, SpecialtyCell, _merge, present

_REGION_COLUMNS = (TABLE.c.region, *_COLUMNS)


def _query(shape: tuple[tuple[str, int], ...]) -> Any:
    return union_all(
        *(
            select(literal(sign).label("sign"), *_REGION_COLUMNS).where(
                TABLE.c.region != ALL,
                TABLE.c.facility == ALL,
                TABLE.c.grain == grain,
                TABLE.c.day >= bindparam(f"first_{i}"),
                TABLE.c.day <= bindparam(f"last_{i}"),
            )
            for i, (grain, sign) in enumerate(shape)
        )
    )


async def region_cells(session: AsyncSession, f: StatsFilter) -> list[tuple[str, SpecialtyCell]]:
    """(region, aggregates of one specialty there) for every pair with consultations."""
    parts = spans(f.first, f.last, None)
    params: dict[str, Any] = {}
    for i, (_, start, end, _) in enumerate(parts):
        params[f"first_{i}"] = start
        params[f"last_{i}"] = end
    stmt = _query(tuple((grain, sign) for grain, _, _, sign in parts))
    connection = await session.connection()
    groups: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {}
    for row in await connection.execute(stmt, params):
        group = groups.setdefault((row[1], row[2]), ([], []))
        # Without the region: the shape service._merge reads (sign, specialty, day, ...).
        group[row[0] < 0].append((row[0], *row[2:]))
    out: list[tuple[str, SpecialtyCell]] = []
    for (region, specialty), (plus, minus) in groups.items():
        cell: Cell = _merge(plus, minus)
        if cell.requested > 0:
            out.append((region, SpecialtyCell(specialty, None, cell)))
    out.sort(key=lambda rc: (rc[0], -rc[1].cell.requested, rc[1].specialty))
    return out


async def region_report(session: AsyncSession, f: StatsFilter) -> RegionStatsReport:
    """The region × specialty table of a resolved filter (``region`` and ``granularity`` are
    not used: every region, the whole period)."""
    items = []
    for region, cell in await region_cells(session, f):
        shown = present(cell).model_dump()
        shown.pop("period", None)
        items.append(RegionStatsOut(region=region, **shown))
    return RegionStatsReport(
        from_date=f.first, to_date=f.last, suppressed_marker=SUPPRESSED, items=items
    )
