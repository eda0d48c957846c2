"""Booking throughput and latency through the full endpoint vs a bare aiohttp+asyncpg INSERT.

Both servers run as single processes on the same event loop (uvloop where installed) on
this machine against the same PostgreSQL, side by side in the same run, at the same
concurrency, warmed up, alternating rounds; the ratio is what counts. The client runs on the
same cores: its own CPU per booking is printed too. Run:
``.venv/bin/python bench/booking.py [--requests N] [--concurrency C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from _common import (
    BIN,
    LoadResult,
    cpu_seconds,
    free_port,
    rss_mib,
    run_load,
    server_process,
    table,
    throwaway_database,
)
from teleconsult.accounts.models import User
from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.codes import Role
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.db.uow import unit_of_work
from teleconsult.facilities.models import Facility
from teleconsult.patients.iin import make_iin
from teleconsult.patients.models import Patient
from teleconsult.scheduling.models import Slot
from teleconsult.scheduling.schemas import AvailabilityCreate
from teleconsult.scheduling.service import publish_availability

PASSWORD = "bench-password-123"


async def prepare(url: str, slots_needed: int) -> tuple[list[str], list[str]]:
    """A GP, a specialist with enough future slots, and patients; returns slot and patient ids."""
    engine = make_engine(url)
    passwords = Passwords(1, 1024)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        clinic = Facility(name="Bench clinic", region="pavlodar", level="primary")
        hospital = Facility(name="Bench hospital", region="pavlodar", level="secondary")
        session.add_all([clinic, hospital])
        await session.flush()
        gp = await create_user(
            session,
            passwords,
            UserCreate(
                username="bench-gp",
                password=PASSWORD,
                full_name="GP",
                role=Role.gp,
                facility_id=clinic.id,
            ),
        )
        specialist: User = await create_user(
            session,
            passwords,
            UserCreate(
                username="bench-spec",
                password=PASSWORD,
                full_name="Spec",
                role=Role.specialist,
                facility_id=hospital.id,
                specialties=["cardiology"],
            ),
        )
        patients = []
        serial = 1
        while len(patients) < 50:
            iin = make_iin(datetime(1980, 1, 1).date(), "male", serial)
            serial += 1
            if iin:
                patients.append(
                    Patient(
                        iin=iin,
                        full_name="P",
                        birth_date=datetime(1980, 1, 1).date(),
                        sex="male",
                        facility_id=clinic.id,
                        registered_by=gp.id,
                    )
                )
        session.add_all(patients)
        now = datetime.now(UTC)
        start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        made = 0
        while made < slots_needed:
            _, count = await publish_availability(
                session,
                specialist,
                specialist.id,
                AvailabilityCreate(
                    starts_at=start, ends_at=start + timedelta(hours=24), slot_minutes=5
                ),
                now=now,
                default_slot_minutes=20,
            )
            made += count
            start += timedelta(hours=24)
        await session.flush()
        from sqlalchemy import select

        slot_ids = [str(s) for s in await session.scalars(select(Slot.id).order_by(Slot.starts_at))]
        patient_ids = [str(p.id) for p in patients]
    await engine.dispose()
    return slot_ids, patient_ids


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=1, help="full-server processes (uses the local Redis)"
    )
    args = parser.parse_args()

    async with throwaway_database("tc_bench_booking") as url:
        slots, patients = await prepare(url, args.requests * args.rounds * 2 + 500)
        full_port, bare_port = free_port(), free_port()
        env = {
            "TELECONSULT_DATABASE_URL": url,
            "TELECONSULT_ENV": "test",
            "TELECONSULT_ARGON2_TIME_COST": "1",
            "TELECONSULT_ARGON2_MEMORY_KIB": "1024",
            # The bare baseline writes no access log either.
            "TELECONSULT_ACCESS_LOG": "false",
        }
        if args.workers > 1:
            env["TELECONSULT_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        async with (
            server_process(
                [
                    str(BIN / "teleconsult"),
                    "serve",
                    "--port",
                    str(full_port),
                    "--workers",
                    str(args.workers),
                ],
                env,
                full_port,
            ) as full_pid,
            server_process(
                [
                    sys.executable,
                    str(Path(__file__).parent / "bare_booking_server.py"),
                    dsn,
                    str(bare_port),
                ],
                {},
                bare_port,
            ) as bare_pid,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as http,
        ):
            await asyncio.sleep(1)
            idle_full, idle_bare = rss_mib(full_pid), rss_mib(bare_pid)
            async with http.post(
                f"http://127.0.0.1:{full_port}/api/v1/auth/login",
                json={"username": "bench-gp", "password": PASSWORD},
            ) as resp:
                token = (await resp.json())["token"]
            headers = {"Authorization": f"Bearer {token}"}
            slot_iter = iter(slots)

            def full_call() -> Callable[[int], Awaitable[int]]:
                async def call(i: int) -> int:
                    body = {
                        "patient_id": patients[i % len(patients)],
                        "specialty": "cardiology",
                        "mode": "video",
                        "urgency": "routine",
                        "reason": "bench",
                        "slot_id": next(slot_iter),
                    }
                    async with http.post(
                        f"http://127.0.0.1:{full_port}/api/v1/consultations",
                        json=body,
                        headers=headers,
                    ) as r:
                        await r.read()
                        return r.status

                return call

            def bare_call() -> Callable[[int], Awaitable[int]]:
                async def call(i: int) -> int:
                    body = {
                        "patient_id": patients[i % len(patients)],
                        "reason": "bench",
                        "slot_id": next(slot_iter),
                    }
                    async with http.post(f"http://127.0.0.1:{bare_port}/book", json=body) as r:
                        await r.read()
                        return r.status

                return call

            # Warm both up, then alternate rounds so that machine noise hits both alike.
            await run_load(full_call(), 100, 8)
            await run_load(bare_call(), 100, 8)
            full_runs: list[LoadResult] = []
            bare_runs: list[LoadResult] = []
            full_cpu = bare_cpu = 0.0
            # The client runs on the same cores: its own CPU says whether it held a server back.
            full_client = bare_client = 0.0
            for _ in range(args.rounds):
                before, client = cpu_seconds(full_pid), time.process_time()
                full_runs.append(await run_load(full_call(), args.requests, args.concurrency))
                full_cpu += cpu_seconds(full_pid) - before
                full_client += time.process_time() - client
                before, client = cpu_seconds(bare_pid), time.process_time()
                bare_runs.append(await run_load(bare_call(), args.requests, args.concurrency))
                bare_cpu += cpu_seconds(bare_pid) - before
                bare_client += time.process_time() - client
            loaded_full = rss_mib(full_pid)

    best_full = max(full_runs, key=lambda r: r.throughput)
    best_bare = max(bare_runs, key=lambda r: r.throughput)
    assert set(best_full.statuses) == {201}, best_full.statuses
    rows = [
        (
            "full endpoint",
            f"{best_full.throughput:.0f}",
            f"{best_full.p50:.1f}",
            f"{best_full.pct(0.99):.1f}",
            f"{idle_full:.0f}",
        ),
        (
            "bare aiohttp+asyncpg",
            f"{best_bare.throughput:.0f}",
            f"{best_bare.p50:.1f}",
            f"{best_bare.pct(0.99):.1f}",
            f"{idle_bare:.0f}",
        ),
    ]
    print(
        f"booking, {args.requests} requests x {args.rounds} rounds, concurrency "
        f"{args.concurrency}, PostgreSQL, full server on {args.workers} process(es), bare on one"
    )
    print(table(rows, ("server", "req/s", "p50 ms", "p99 ms", "idle RSS MiB")))
    per_request = 1000 / (args.requests * args.rounds)
    print(
        f"server CPU per booking: full {full_cpu * per_request:.2f} ms, "
        f"bare {bare_cpu * per_request:.2f} ms"
    )
    print(
        f"client CPU per booking: against full {full_client * per_request:.2f} ms, "
        f"against bare {bare_client * per_request:.2f} ms"
    )
    print(f"full server RSS after load: {loaded_full:.0f} MiB")
    print(
        f"throughput ratio full/bare: {best_full.throughput / best_bare.throughput:.2f} "
        "(bar >= 0.25)"
    )
    print(f"p50 latency ratio full/bare: {best_full.p50 / best_bare.p50:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
