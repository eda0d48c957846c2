"""``teleconsult stats``: the statistics table in the terminal."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ..clock import Clock
from ..codes import SPECIALTIES
from ..config import Settings
from ..db.engine import engine_from_settings, make_sessionmaker
from ..db.uow import unit_of_work
from ..errors import DomainError, validation_fields
from ..stats.cells import reporting_day
from ..stats.schemas import SpecialtyStatsReport, StatsQuery
from ..stats.service import specialty_report, to_csv


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="first day (national)")
    parser.add_argument("--to", metavar="YYYY-MM-DD", help="last day, included (default today)")
    parser.add_argument("--region", help="region slug, e.g. pavlodar")
    parser.add_argument("--facility", help="facility id")
    parser.add_argument("--granularity", choices=["day", "week", "month"])
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")


def _duration(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    seconds = float(value)
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _share(value: Any) -> str:
    if value is None:
        return "–"
    return value if isinstance(value, str) else f"{value:.0%}"


def table(report: SpecialtyStatsReport) -> Table:
    where = report.region or "all regions"
    if report.facility:
        where += f", facility {report.facility}"
    out = Table(
        title=f"Consultations by specialty, {report.from_date} – {report.to_date} ({where})",
        caption=(
            "Counts of 1-4 shown as <5. Times: median (p50) and p90, within "
            f"{report.percentile_error.relative:.0%}. Target: emergency 1 h, urgent 24 h, "
            "routine 14 d."
        ),
    )
    if report.granularity:
        out.add_column(report.granularity.value, no_wrap=True, min_width=10)
    out.add_column("specialty", no_wrap=True, max_width=20)
    for name in (
        "requested",
        "completed",
        "cancelled",
        "no-show",
        "wait p50",
        "wait p90",
        "call p50",
        "async p50",
        "in target",
    ):
        out.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for item in report.items:
        cells = [
            SPECIALTIES.get(item.specialty, item.specialty),
            str(item.requested),
            str(item.completed),
            str(item.cancelled),
            str(item.no_show),
            _duration(item.wait_median_s),
            _duration(item.wait_p90_s),
            _duration(item.duration_median_s),
            _duration(item.turnaround_median_s),
            _share(item.answered_within_target),
        ]
        if report.granularity:
            cells.insert(0, str(item.period))
        out.add_row(*cells)
    return out


async def print_stats(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    raw = {
        "from": args.from_, "to": args.to, "region": args.region, "facility": args.facility,
        "granularity": args.granularity,
    }  # fmt: skip
    try:
        query = StatsQuery.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        for name, message in validation_fields(exc).items():
            console.print(f"[red]--{name.rstrip('_')}: {message}[/red]")
        return 2
    engine = engine_from_settings(settings)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            report = await specialty_report(session, query, today=reporting_day(Clock().now()))
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        return 2
    finally:
        await engine.dispose()
    if args.csv:
        console.file.write(to_csv(report))
    else:
        console.print(table(report))
    return 0
