"""Statistics at national scale: the stats endpoint against a bare count, side by side.

Creates a throwaway PostgreSQL database on 127.0.0.1, seeds 100,000 and then 1,000,000
consultations with the history generator, and at each size times, in alternating rounds,

- ``GET /api/v1/stats/specialties`` for the last year by specialty, through a real HTTP
  server (authentication, rollup read, percentile merge, JSON), and
- a bare ``SELECT count(*) FROM consultations`` on the same database,

then prints the medians and their ratio (goal: ≤ 0.25 at a million, the cold rows too, and
an endpoint time that stays flat as the table grows), and the seeding rate. The headline is
the endpoint as an administrator hits it again and again (its process keeps the report until
a rollup change commits, stats/cache.py); "cold" rows empty that cache before every request,
as right after a booking, so each one reads and merges the rollups. ``GET /me`` is timed the
same way, as the floor every authenticated endpoint pays. The history is written through
the app's own sessions, so seeding drops the cached reports like any other rollup change.
Not a test: run it by hand, ``python bench/stats.py`` (``TELECONSULT_BENCH_DATABASE_URL``
names the server).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.app import create_app
from teleconsult.appkeys import SESSIONMAKER, STATS_CACHE
from teleconsult.codes import Role
from teleconsult.config import Settings
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.db.migrate import upgrade
from teleconsult.db.uow import unit_of_work
from teleconsult.seed.history import generate_history
from teleconsult.stats.cells import reporting_day

SERVER = os.environ.get(
    "TELECONSULT_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SIZES = (100_000, 1_000_000)
ROUNDS = 40
PASSWORD = "bench-password-1"


async def _admin_sql(sql: str) -> None:
    engine = make_engine(SERVER)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def _vacuum(engine: AsyncEngine) -> None:
    # What autovacuum would do on a live server: the count gets its index-only scan.
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE) consultations"))
        await conn.execute(text("VACUUM (ANALYZE) stats_rollups"))


async def measure(
    engine: AsyncEngine,
    http: aiohttp.ClientSession,
    url: str,
    params: dict[str, str],
    before: Callable[[], None] = lambda: None,
) -> tuple[float, float]:
    """Median seconds of (endpoint, bare count), measured in alternating rounds; ``before``
    runs ahead of each endpoint call, untimed."""

    async def endpoint() -> None:
        async with http.get(url, params=params) as resp:
            assert resp.status == 200, await resp.text()
            await resp.read()

    async with engine.connect() as conn:

        async def count() -> None:
            await conn.scalar(text("SELECT count(*) FROM consultations"))

        for _ in range(5):  # warm caches and connections on both sides
            before()
            await endpoint()
            await count()
        http_times, count_times = [], []
        for _ in range(ROUNDS):
            before()
            http_times.append(await _timed(endpoint))
            count_times.append(await _timed(count))
    return statistics.median(http_times), statistics.median(count_times)


async def main() -> None:
    console = Console()
    name = f"tc_bench_stats_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    await _admin_sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(url, pool_size=5)
    runner: web.AppRunner | None = None
    try:
        await upgrade(engine)
        sessionmaker = make_sessionmaker(engine)
        async with unit_of_work(sessionmaker) as session:
            await create_user(
                session,
                Passwords(1, 1024),
                UserCreate(
                    username="bench-admin", password=PASSWORD, full_name="B", role=Role.admin
                ),
            )
        settings = Settings(
            env="test",
            database_url=url,
            data_dir=Path(tempfile.mkdtemp()),
            argon2_time_cost=1,
            argon2_memory_kib=1024,
        )
        runner = web.AppRunner(create_app(settings, engine=engine), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
        today = reporting_day(datetime.now(UTC))
        # The last 12 calendar months (12 month rows per specialty), and the last 365 days
        # (month rows plus the day rows of the two partial months at the ends).
        this_month = today.replace(day=1)
        years = {
            "12 months": {
                "from": this_month.replace(year=this_month.year - 1).isoformat(),
                "to": (this_month - timedelta(days=1)).isoformat(),
            },
            "365 days": {
                "from": (today - timedelta(days=364)).isoformat(),
                "to": today.isoformat(),
            },
        }
        app = runner.app
        # The history goes through the app's sessions: its rollup writes drop cached reports.
        sessionmaker = app[SESSIONMAKER]
        reports = app[STATS_CACHE]
        cases: list[tuple[str, str, dict[str, str], Callable[[], None]]] = []
        for label, params in years.items():
            cases.append((label, "/stats/specialties", params, lambda: None))
            cases.append((f"{label}, cold", "/stats/specialties", params, reports.invalidate))
        # GET /me shows the fixed cost every endpoint pays (HTTP, token, session).
        cases.append(("GET /me", "/me", {}, lambda: None))
        results = Table(title="Stats endpoint vs bare SELECT count(*) (PostgreSQL, medians)")
        for column in (
            "consultations",
            "seeded / s",
            "request",
            "endpoint ms",
            "count(*) ms",
            "ratio",
        ):
            results.add_column(column, justify="right")
        rng = random.Random(2026)
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{base}/auth/login", json={"username": "bench-admin", "password": PASSWORD}
            ) as resp:
                token = (await resp.json())["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            seeded = 0
            for size in SIZES:
                started = time.perf_counter()
                await generate_history(sessionmaker, size - seeded, rng=rng, console=console)
                rate = (size - seeded) / (time.perf_counter() - started)
                seeded = size
                await _vacuum(engine)
                for label, path, params, before in cases:
                    endpoint, count = await measure(engine, http, base + path, params, before)
                    results.add_row(
                        f"{size:,}",
                        f"{rate:,.0f}",
                        label,
                        f"{endpoint * 1000:.2f}",
                        f"{count * 1000:.2f}",
                        f"{endpoint / count:.3f}",
                    )
                    console.print(
                        f"{size:,} ({label}): seeding {rate:,.0f} consultations/s; endpoint "
                        f"{endpoint * 1000:.2f} ms vs count(*) {count * 1000:.2f} ms "
                        f"→ ratio {endpoint / count:.3f}"
                    )
        console.print(results)
    finally:
        if runner is not None:
            await runner.cleanup()
        await engine.dispose()
        await _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
