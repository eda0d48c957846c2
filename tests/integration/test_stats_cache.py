"""The statistics report cache through the real app: dropped by every rollup change in the
same process at once, in other app instances through the bus, never mixing filters, and
never reached by a caller the endpoint refuses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from teleconsult.app import create_app
from teleconsult.appkeys import STATS_CACHE
from teleconsult.bus.memory import MemoryBus
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.stats.cache import ReportCache

from ..conftest import REDIS_URL_ENV, Database, service_url
from ..factories import Api, availability, book_video_calls, world


def cache_of(client: Any) -> ReportCache:
    return client.app[STATS_CACHE]


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def cardiology(caller: Api, **params: Any) -> dict[str, Any] | None:
    status, report = await caller.get("/stats/specialties", **params)
    assert status == 200, report
    rows = [r for r in report["items"] if r["specialty"] == "cardiology"]
    return rows[0] if rows else None


async def test_bookings_and_transitions_drop_the_cache_at_once(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    cache = cache_of(client)
    await until(lambda: cache.subscribed)
    assert await cardiology(w.admin) is None
    hits = cache.hits
    assert await cardiology(w.admin) is None
    assert cache.hits == hits + 1, "a repeated read is served from the cache"

    await availability(w.specialist, clock.now() + timedelta(hours=1), hours=3)
    ids = await book_video_calls(w, 6)
    row = await cardiology(w.admin)
    assert row is not None and (row["requested"], row["cancelled"]) == (6, 0)

    status, _ = await w.gp.post(f"/consultations/{ids[5]}/cancel")
    assert status == 200
    row = await cardiology(w.admin)
    assert row is not None and row["cancelled"] == "<5" and row["wait_median_s"] is None

    clock.advance(hours=3)
    for cid in ids[:5]:
        status, body = await w.specialist.post(f"/consultations/{cid}/start")
        assert status == 200, body
    row = await cardiology(w.admin)
    assert row is not None and row["completed"] == 0 and row["wait_median_s"] is not None

    clock.advance(minutes=20)
    for cid in ids[:5]:
        status, body = await w.specialist.post(
            f"/consultations/{cid}/complete", {"conclusion": "Reviewed."}
        )
        assert status == 200, body
    row = await cardiology(w.admin)
    assert row is not None and row["completed"] == 5 and row["duration_median_s"] is not None

    # Each filter has its own entry: a region without consultations stays empty.
    assert await cardiology(w.admin, region="astana") is None
    assert await cardiology(w.admin, region="karaganda") == row
    assert await cardiology(w.admin, region="astana") is None


async def test_a_failed_transition_leaves_the_cache_alone(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    cache = cache_of(client)
    await availability(w.specialist, clock.now() + timedelta(hours=1))
    [cid] = await book_video_calls(w, 1)
    await cardiology(w.admin)
    generation = cache.generation
    # Too early to start or to record a no-show: refused, rolled back, nothing dropped.
    for action in ("start", "no-show"):
        status, _ = await w.specialist.post(f"/consultations/{cid}/{action}")
        assert status == 409
    assert cache.generation == generation
    clock.advance(hours=1)
    status, _ = await w.specialist.post(f"/consultations/{cid}/no-show")
    assert status == 200
    assert cache.generation > generation


async def test_the_role_check_comes_before_the_cache(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    assert (await w.admin.get("/stats/specialties"))[0] == 200
    resp = await client.get("/api/v1/stats/specialties.csv", headers=w.admin.headers())
    assert resp.status == 200
    for caller in (w.gp, w.specialist):
        status, body = await caller.get("/stats/specialties")
        assert status == 403 and body["error"] == "Forbidden"
        resp = await client.get("/api/v1/stats/specialties.csv", headers=caller.headers())
        assert resp.status == 403
    client.session.cookie_jar.clear()
    assert (await client.get("/api/v1/stats/specialties")).status == 401
    assert (await client.get("/api/v1/stats/specialties.csv")).status == 401


@pytest.mark.parametrize("bus_kind", ["memory", "redis"])
async def test_a_change_made_through_one_app_reaches_another_through_the_bus(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    bus_kind: str,
) -> None:
    # A TTL far beyond the test: only the bus can make the second app see the change.
    settings = settings.model_copy(update={"stats_cache_seconds": 3600})
    shared = MemoryBus()
    if bus_kind == "redis":
        settings = settings.model_copy(update={"redis_url": service_url(REDIS_URL_ENV, "Redis")})
    apps = []
    for _ in range(2):
        bus = shared if bus_kind == "memory" else None
        apps.append(
            await aiohttp_client(create_app(settings, clock=clock, engine=database.engine, bus=bus))
        )
    writer, reader = apps
    w = await world(writer, database.engine)
    admin_there = Api(reader, w.admin.token, w.admin.user)
    cache = cache_of(reader)
    await until(lambda: cache.subscribed and cache_of(writer).subscribed)

    assert await cardiology(admin_there) is None
    hits = cache.hits
    assert await cardiology(admin_there) is None
    assert cache.hits == hits + 1

    await availability(w.specialist, clock.now() + timedelta(hours=1), hours=2)
    for booked in range(1, 7):
        generation = cache.generation
        await book_video_calls(w, 1)
        await until(lambda g=generation: cache.generation != g)
        row = await cardiology(admin_there)
        assert row is not None
        assert row["requested"] == (booked if booked >= 5 else "<5")
    await shared.close()
