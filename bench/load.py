"""Load: a realistic mix of requests against one server process, then against two processes
behind the same PostgreSQL and Redis.

The mix: GPs search slots and book (the earliest free slot), specialists read their queue
and write notes (with the patient's consent), patients read their passport and their access
log, administrators open the statistics; every signed-in clinician holds a live-queue
websocket (``/api/v1/events``) for the whole run. Each run is bounded: ``--requests`` requests
by ``--concurrency`` clients that send the next request as soon as the last is answered (no
pause: the peak the machine can serve). The servers run with
``TELECONSULT_COUNT_STATEMENTS=1`` (``teleconsult/cli/statements.py``), so every answer says
how many SQL statements it took.

Prints, per setup: throughput, errors, and per kind of request p50/p99 latency and SQL
statements per request. Run: ``.venv/bin/python bench/load.py [--requests N]
[--concurrency C] [--only 1|2]`` (PostgreSQL at TELECONSULT_BENCH_DATABASE_URL, Redis at
TELECONSULT_BENCH_REDIS_URL; a fresh database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))

from _common import BIN, cpu_seconds, free_port, server_process, table, throwaway_database
from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.codes import Role
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.db.uow import unit_of_work
from teleconsult.patients.iin import make_iin

REDIS_URL = os.environ.get("TELECONSULT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench-password-123"
STATEMENTS = "X-Statements"
# Kinds of request and their share of the mix.
MIX: dict[str, int] = {
    "gp: search slots": 20,
    "gp: book": 8,
    "specialist: queue": 16,
    "specialist: write note": 8,
    "patient: passport": 18,
    "patient: access log": 10,
    "admin: statistics": 4,
}
GPS, SPECIALISTS, PATIENTS, ADMINS = 4, 4, 40, 2
# Patients whose consultation with a specialist is in progress, with consent (notes).
CASES_PER_SPECIALIST = 5


@dataclass
class Actor:
    token: str
    id: str
    patient_id: str | None = None
    cases: list[tuple[str, str]] = field(default_factory=list)  # (consultation, patient)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Cast:
    gps: list[Actor]
    specialists: list[Actor]
    patients: list[Actor]
    admins: list[Actor]
    patient_ids: list[str]


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int
    statements: int | None


class Api:
    """JSON calls to one server; a failed setup call stops the benchmark."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def call(
        self, method: str, path: str, actor: Actor | None = None, **kwargs: Any
    ) -> tuple[int, Any, int | None]:
        headers = actor.headers if actor is not None else {}
        async with self.http.request(
            method, f"{self.base}/api/v1{path}", headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            body = json.loads(raw) if raw and response.content_type == "application/json" else None
            counted = response.headers.get(STATEMENTS)
            return response.status, body, int(counted) if counted is not None else None

    async def ok(self, method: str, path: str, actor: Actor | None = None, **kwargs: Any) -> Any:
        status, body, _ = await self.call(method, path, actor, **kwargs)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {body}")
        return body


async def bootstrap_admin(url: str) -> None:
    engine = make_engine(url)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        await create_user(
            session,
            Passwords(1, 1024),
            UserCreate(username="bench-admin-0", password=PASSWORD, full_name="A", role=Role.admin),
        )
    await engine.dispose()


async def prepare(api: Api, bookings: int) -> Cast:
    """Facilities, people, availability and consultations in progress, through the API."""

    async def login(username: str) -> Actor:
        body = await api.ok(
            "POST", "/auth/login", json={"username": username, "password": PASSWORD}
        )
        return Actor(body["token"], body["user"]["id"], body["user"].get("patient_id"))

    root = await login("bench-admin-0")

    async def user(role: str, n: int, **extra: Any) -> Actor:
        username = f"bench-{role}-{n}"
        payload = {"username": username, "password": PASSWORD, "full_name": f"{role} {n}"}
        await api.ok("POST", "/users", root, json={**payload, "role": role, **extra})
        return await login(username)

    clinic = await api.ok(
        "POST",
        "/facilities",
        root,
        json={"name": "Rural clinic", "region": "pavlodar", "level": "primary"},
    )
    hospital = await api.ok(
        "POST",
        "/facilities",
        root,
        json={"name": "Hospital", "region": "pavlodar", "level": "secondary"},
    )
    admins = [root] + [await user("admin", n) for n in range(1, ADMINS)]
    gps = [await user("gp", n, facility_id=clinic["id"]) for n in range(GPS)]
    specialists = [
        await user("specialist", n, facility_id=hospital["id"], specialties=["cardiology"])
        for n in range(SPECIALISTS)
    ]
    patient_ids: list[str] = []
    serial = 1
    while len(patient_ids) < PATIENTS:
        iin = make_iin(date(1970 + len(patient_ids) % 40, 3, 9), "female", serial)
        serial += 1
        if iin is None:
            continue
        body = await api.ok(
            "POST",
            "/patients",
            gps[len(patient_ids) % GPS],
            json={
                "iin": iin,
                "full_name": f"Patient {len(patient_ids)}",
                "birth_date": date(1970 + len(patient_ids) % 40, 3, 9).isoformat(),
                "sex": "female",
            },
        )
        patient_ids.append(body["id"])
    patients = []
    for n, pid in enumerate(patient_ids):
        patient = await user("patient", n, patient_id=pid)
        patient.patient_id = pid
        patients.append(patient)

    # Enough free slots that every booking of the run finds one (5-minute slots).
    now = datetime.now(UTC)
    per_specialist = bookings // SPECIALISTS + 50
    days = per_specialist // (12 * 12) + 1
    start = (now + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    for specialist in specialists:
        for day in range(days):
            begins = start + timedelta(days=day)
            await api.ok(
                "POST",
                f"/specialists/{specialist.id}/availability",
                specialist,
                json={
                    "starts_at": begins.isoformat(),
                    "ends_at": (begins + timedelta(hours=12)).isoformat(),
                    "slot_minutes": 5,
                },
            )

    # Each specialist has cases in progress whose patients consented to their notes.
    expires = (now + timedelta(days=2)).isoformat()
    for n, specialist in enumerate(specialists):
        for k in range(CASES_PER_SPECIALIST):
            index = n * CASES_PER_SPECIALIST + k
            patient = patients[index]
            case = await api.ok(
                "POST",
                "/consultations",
                gps[index % GPS],
                json={
                    "patient_id": patient.patient_id,
                    "specialty": "cardiology",
                    "mode": "async",
                    "urgency": "routine",
                    "reason": "palpitations at night",
                },
            )
            await api.ok("POST", f"/consultations/{case['id']}/claim", specialist)
            await api.ok(
                "POST",
                f"/patients/{patient.patient_id}/consents",
                patient,
                json={
                    "access": "read_write",
                    "expires_at": expires,
                    "grantee_user_id": specialist.id,
                },
            )
            specialist.cases.append((case["id"], str(patient.patient_id)))
    return Cast(gps, specialists, patients, admins, patient_ids)


def request_maker(apis: list[Api], cast: Cast, seed: int) -> Callable[[int], Awaitable[Sample]]:
    """One request of the mix (chosen at random by weight), from a random person of its role,
    to one of the servers in turn."""
    rng = random.Random(seed)
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    now = datetime.now(UTC)
    window = {"from": now.isoformat(), "to": (now + timedelta(days=30)).isoformat()}

    async def one(i: int) -> Sample:
        api = apis[i % len(apis)]
        kind = rng.choices(kinds, weights)[0]
        call: Awaitable[tuple[int, Any, int | None]]
        if kind == "gp: search slots":
            call = api.call(
                "GET", "/slots", rng.choice(cast.gps), params={"specialty": "cardiology"}
            )
        elif kind == "gp: book":
            call = api.call(
                "POST",
                "/consultations",
                rng.choice(cast.gps),
                json={
                    "patient_id": rng.choice(cast.patient_ids),
                    "specialty": "cardiology",
                    "mode": "video",
                    "urgency": "routine",
                    "reason": "chest pain on exertion",
                },
            )
        elif kind == "specialist: queue":
            call = api.call(
                "GET",
                "/consultations",
                rng.choice(cast.specialists),
                params={"mode": "video", **window},
            )
        elif kind == "specialist: write note":
            specialist = rng.choice(cast.specialists)
            consultation, _ = rng.choice(specialist.cases)
            call = api.call(
                "POST",
                f"/consultations/{consultation}/notes",
                specialist,
                json={"text": f"BP 150/95, advised lifestyle ({i})", "diagnoses": []},
            )
        elif kind == "patient: passport":
            patient = rng.choice(cast.patients)
            call = api.call("GET", f"/patients/{patient.patient_id}/passport", patient)
        elif kind == "patient: access log":
            patient = rng.choice(cast.patients)
            call = api.call("GET", f"/patients/{patient.patient_id}/access-log", patient)
        else:
            call = api.call("GET", "/stats/specialties", rng.choice(cast.admins))
        started = time.perf_counter()
        try:
            status, _, statements = await call
        except aiohttp.ClientError:
            status, statements = 599, None
        return Sample(kind, time.perf_counter() - started, status, statements)

    return one


@asynccontextmanager
async def live_queues(apis: list[Api], clinicians: list[Actor]) -> AsyncIterator[list[int]]:
    """A live-queue websocket per clinician (spread over the servers); yields the number of
    events each has received so far."""
    received = [0] * len(clinicians)
    sockets = []
    for n, who in enumerate(clinicians):
        api = apis[n % len(apis)]
        ws = await api.http.ws_connect(f"{api.base}/api/v1/events", headers=who.headers)
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello", hello
        sockets.append(ws)

    async def read(n: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                received[n] += 1

    readers = [asyncio.create_task(read(n, ws)) for n, ws in enumerate(sockets)]
    try:
        yield received
    finally:
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)


async def run(
    one: Callable[[int], Awaitable[Sample]], total: int, concurrency: int
) -> tuple[list[Sample], float]:
    samples: list[Sample] = []
    counter = iter(range(total))

    async def client() -> None:
        for i in counter:
            samples.append(await one(i))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(
    title: str, samples: list[Sample], seconds: float, events: int, cpu: float, client_cpu: float
) -> bool:
    errors = [s for s in samples if s.status >= 400]
    every = [s.seconds for s in samples]
    print(f"\n{title}")
    print(
        f"{len(samples)} requests in {seconds:.1f} s: {len(samples) / seconds:.0f} req/s, "
        f"p50 {pct(every, 0.5):.1f} ms, p99 {pct(every, 0.99):.1f} ms, errors {len(errors)}"
        f"; live-queue events received: {events}"
    )
    # CPU the server processes used per request: what the machine's load does not change
    # much (the wall-clock figures above depend on how busy the machine is).
    # The clients run on the same cores: what they used says whether they held the servers back.
    print(
        f"server CPU per request: {cpu * 1000 / len(samples):.1f} ms (all processes); "
        f"the clients' own: {client_cpu * 1000 / len(samples):.1f} ms "
        f"({100 * client_cpu / seconds:.0f}% of a core)"
    )
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    rows = []
    for kind in MIX:
        got = by_kind.get(kind, [])
        if not got:
            continue
        counted = [s.statements for s in got if s.statements is not None]
        statuses = sorted({s.status for s in got})
        rows.append(
            (
                kind,
                len(got),
                f"{pct([s.seconds for s in got], 0.5):.1f}",
                f"{pct([s.seconds for s in got], 0.99):.1f}",
                sum(1 for s in got if s.status >= 400),
                f"{statistics.mean(counted):.1f}" if counted else "-",
                f"{max(counted)}" if counted else "-",
                ",".join(map(str, statuses)),
            )
        )
    print(
        table(
            rows,
            ("request", "n", "p50 ms", "p99 ms", "errors", "SQL/req", "SQL max", "statuses"),
        )
    )
    p99 = pct(every, 0.99)
    met = not errors and p99 < 250
    print(f"bar (p99 < 250 ms, no errors): {'met' if met else 'NOT met'}")
    return met


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000, help="requests per measured run")
    parser.add_argument("--concurrency", type=int, default=16, help="clients sending at once")
    parser.add_argument("--only", type=int, choices=(1, 2), help="only this many processes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setups = [args.only] if args.only else [1, 2]
    # Bookings per run (and the warm-up's), with room to spare.
    bookings = (args.requests + 300) * MIX["gp: book"] // sum(MIX.values()) * 2 * len(setups)

    async with throwaway_database("tc_bench_load") as url:
        await bootstrap_admin(url)
        data_dir = tempfile.mkdtemp(prefix="tc-bench-load-")
        env = {
            "TELECONSULT_DATABASE_URL": url,
            "TELECONSULT_REDIS_URL": REDIS_URL,
            "TELECONSULT_DATA_DIR": data_dir,
            "TELECONSULT_ENV": "test",
            "TELECONSULT_ARGON2_TIME_COST": "1",
            "TELECONSULT_ARGON2_MEMORY_KIB": "1024",
            "TELECONSULT_COUNT_STATEMENTS": "1",
        }
        ports = [free_port(), free_port()]
        limit = aiohttp.TCPConnector(limit=args.concurrency + 64)
        async with AsyncExitStack() as stack:
            http = await stack.enter_async_context(aiohttp.ClientSession(connector=limit))
            apis = []
            pids = []
            for port in ports[: max(setups)]:
                pid = await stack.enter_async_context(
                    server_process(
                        [str(BIN / "teleconsult"), "serve", "--port", str(port)], env, port
                    )
                )
                apis.append(Api(http, f"http://127.0.0.1:{port}"))
                pids.append(pid)
            cast = await prepare(apis[0], bookings)
            clinicians = cast.gps + cast.specialists
            print(
                f"load mix, PostgreSQL + Redis, {args.requests} requests per run, "
                f"{args.concurrency} clients at once, {len(clinicians)} live-queue websockets; "
                f"{GPS} GPs, {SPECIALISTS} specialists, {PATIENTS} patients, {ADMINS} admins"
            )
            print("mix: " + ", ".join(f"{kind} {weight}" for kind, weight in MIX.items()))
            for n, processes in enumerate(setups):
                serving = apis[:processes]
                async with live_queues(serving, clinicians) as received:
                    one = request_maker(serving, cast, args.seed + n)
                    await run(one, 300, 8)  # warm up
                    before = sum(received)
                    used = sum(cpu_seconds(pid) for pid in pids)
                    client_used = time.process_time()
                    samples, seconds = await run(one, args.requests, args.concurrency)
                    client_cpu = time.process_time() - client_used
                    await asyncio.sleep(0.5)
                    events = sum(received) - before
                    cpu = sum(cpu_seconds(pid) for pid in pids) - used
                report(f"{processes} server process(es)", samples, seconds, events, cpu, client_cpu)


if __name__ == "__main__":
    asyncio.run(main())
