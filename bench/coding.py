"""ICD-10 coding help: how often the right code is among the suggestions, and how fast.

Reads short teleconsultation notes with their correct codes from ``bench/data/`` and asks
the index (``teleconsult.coding``, the one the endpoint uses) for its five suggestions:

- ``coding_notes.json`` — the measured set (at least 20 notes in each of Kazakh, Russian and
  English). The index was never tuned on these notes.
- ``coding_tuning.json`` — the notes the index's weights and synonyms were tuned on; shown
  separately with ``--tuning``.

A note's codes are the acceptable answers; a three-character category ("I48") accepts any of
its subdivisions. A note is a top-1 hit when the first suggestion is acceptable, top-3 when
one of the first three is. Prints top-1 and top-3 per language and overall, the time to build
the index once, and the time per suggestion (each note suggested ``ROUNDS`` times): median,
95th and 99th percentiles, worst. Bar: top-3 ≥ 70% overall and ≥ 60% in each language, 95
suggestions in 100 under 200 ms (in process, and with ``--http`` over HTTP too). Exits 1 when
the bar is not met. ``--misses`` lists the notes missed at top 3.

``--http`` also times the endpoint itself, ``POST /consultations/{id}/coding-suggestions``
as the specialist's page calls it (authentication, ownership check, suggestion, JSON), on
an app in this process over a throwaway SQLite database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from rich.console import Console
from rich.table import Table

from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.app import create_app
from teleconsult.codes import Role
from teleconsult.coding.index import build_index
from teleconsult.config import Settings
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.db.migrate import upgrade
from teleconsult.db.uow import unit_of_work
from teleconsult.patients.iin import make_iin

DATA = Path(__file__).parent / "data"
ROUNDS = 20
BAR_OVERALL = 0.70
BAR_LANGUAGE = 0.60
BAR_MS = 200.0


def acceptable(code: str, answers: list[str]) -> bool:
    return any(code == a or (len(a) == 3 and code.split(".")[0] == a) for a in answers)


PASSWORD = "correct horse battery"
HTTP_ROUNDS = 5


async def http_times(notes: list[dict[str, Any]]) -> list[float]:
    """Milliseconds per request of the suggestion endpoint, each note HTTP_ROUNDS times."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        engine = make_engine(url)
        await upgrade(engine)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            await create_user(
                session,
                Passwords(1, 1024),
                UserCreate(username="root", password=PASSWORD, full_name="Admin", role=Role.admin),
            )
        await engine.dispose()
        settings = Settings(
            env="test",
            database_url=url,
            data_dir=Path(folder),
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            stun_urls=[],
        )
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:

            async def call(token: str, path: str, body: dict[str, Any]) -> Any:
                headers = {"Authorization": f"Bearer {token}"}
                async with client.post(f"/api/v1{path}", json=body, headers=headers) as resp:
                    answer = await resp.json()
                    assert resp.status in (200, 201), answer
                    return answer

            async def login(username: str) -> str:
                answer = await call("", "/auth/login", {"username": username, "password": PASSWORD})
                return str(answer["token"])

            admin = await login("root")
            ids = []
            for level in ("primary", "secondary"):
                body = {"name": f"Bench {level}", "region": "karaganda", "level": level}
                ids.append((await call(admin, "/facilities", body))["id"])
            for role, facility, extra in (
                ("gp", ids[0], {}),
                ("specialist", ids[1], {"specialties": ["cardiology"]}),
            ):
                body = {"username": f"bench-{role}", "password": PASSWORD, "full_name": role}
                body["role"] = role
                await call(admin, "/users", {**body, "facility_id": facility, **extra})
            gp, specialist = await login("bench-gp"), await login("bench-specialist")
            born = date(1980, 1, 1)
            iin = next(i for n in range(1, 50) if (i := make_iin(born, "female", n)))
            patient = await call(
                gp,
                "/patients",
                {"iin": iin, "full_name": "Bench", "birth_date": born.isoformat(), "sex": "female"},
            )
            case = await call(
                gp,
                "/consultations",
                {
                    "patient_id": patient["id"],
                    "specialty": "cardiology",
                    "mode": "async",
                    "urgency": "routine",
                    "reason": "bench",
                },
            )
            await call(specialist, f"/consultations/{case['id']}/claim", {})
            path = f"/consultations/{case['id']}/coding-suggestions"
            await call(specialist, path, {"text": "warm up"})
            times = []
            for note in notes:
                for _ in range(HTTP_ROUNDS):
                    t0 = time.perf_counter()
                    await call(specialist, path, {"text": note["text"]})
                    times.append((time.perf_counter() - t0) * 1000)
            return times
        finally:
            await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", action="store_true", help="measure the tuning set instead")
    parser.add_argument("--misses", action="store_true", help="list the notes missed at top 3")
    parser.add_argument("--http", action="store_true", help="time the endpoint too")
    args = parser.parse_args()
    name = "coding_tuning.json" if args.tuning else "coding_notes.json"
    notes: list[dict[str, Any]] = json.loads((DATA / name).read_text(encoding="utf-8"))["notes"]

    started = time.perf_counter()
    index = build_index()
    build_s = time.perf_counter() - started

    hits: dict[str, list[tuple[bool, bool]]] = {}
    times: list[float] = []
    misses = []
    for note in notes:
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            found = index.suggest(note["text"])
            times.append((time.perf_counter() - t0) * 1000)
        codes = [s.code for s in found]
        top1 = bool(codes) and acceptable(codes[0], note["codes"])
        top3 = any(acceptable(c, note["codes"]) for c in codes[:3])
        hits.setdefault(note["language"], []).append((top1, top3))
        if not top3:
            misses.append((note, codes))

    console = Console()
    table = Table(title=f"ICD-10 suggestions on {name} ({len(notes)} notes)")
    for column in ("language", "notes", "top-1", "top-3"):
        table.add_column(column, justify="right")
    rows = sorted(hits.items())
    everything = [h for _, hs in rows for h in hs]
    for language, hs in [*rows, ("all", everything)]:
        table.add_row(
            language,
            str(len(hs)),
            f"{sum(h[0] for h in hs) / len(hs):.0%}",
            f"{sum(h[1] for h in hs) / len(hs):.0%}",
        )
    console.print(table)

    def p(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    console.print(
        f"index built in {build_s * 1000:.0f} ms; per suggestion median "
        f"{statistics.median(times):.2f} ms, p95 {p(times, 0.95):.2f} ms, "
        f"p99 {p(times, 0.99):.2f} ms, worst {max(times):.2f} ms ({len(times)} suggestions)"
    )
    # The time bar holds for 95 suggestions in 100 (the machines are shared: the rest is
    # their scheduling); the worst is printed beside it.
    slowest = p(times, 0.95)
    if args.http:
        served = asyncio.run(http_times(notes))
        slowest = max(slowest, p(served, 0.95))
        console.print(
            f"endpoint over HTTP: median {statistics.median(served):.1f} ms, "
            f"p95 {p(served, 0.95):.1f} ms, p99 {p(served, 0.99):.1f} ms, "
            f"worst {max(served):.1f} ms ({len(served)} requests)"
        )
    if args.misses:
        for note, codes in misses:
            console.print(f"[{note['language']}] {note['codes']} got {codes}: {note['text']}")

    top3 = sum(h[1] for h in everything) / len(everything)
    per_language = [sum(h[1] for h in hs) / len(hs) for _, hs in rows]
    met = top3 >= BAR_OVERALL and min(per_language) >= BAR_LANGUAGE and slowest < BAR_MS
    console.print(
        f"bar (top-3 ≥ {BAR_OVERALL:.0%} overall, ≥ {BAR_LANGUAGE:.0%} per language, "
        f"< {BAR_MS:.0f} ms at p95): {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
