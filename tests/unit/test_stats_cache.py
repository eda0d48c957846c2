from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest

from teleconsult.bus.memory import MemoryBus
from teleconsult.stats.cache import CHANNEL, ReportCache
from teleconsult.stats.schemas import PercentileError, SpecialtyStatsReport, StatsFilter

YEAR = StatsFilter(date(2026, 1, 1), date(2026, 12, 31))
PAVLODAR = StatsFilter(date(2026, 1, 1), date(2026, 12, 31), region="pavlodar")


def report(f: StatsFilter) -> SpecialtyStatsReport:
    return SpecialtyStatsReport(
        from_date=f.first,
        to_date=f.last,
        region=f.region,
        facility=None,
        granularity=f.granularity,
        targets_s={},
        percentile_error=PercentileError(relative=0.02, absolute_seconds=1),
        items=[],
    )


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def until(condition: object) -> None:
    for _ in range(100):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    bus = MemoryBus()
    yield bus
    await bus.close()


async def listening(cache: ReportCache) -> asyncio.Task[None]:
    task = asyncio.create_task(cache.listen())
    await until(lambda: cache.subscribed)
    return task


async def stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_report_is_kept_per_filter(bus: MemoryBus) -> None:
    cache = ReportCache(bus, ttl=10)
    task = await listening(cache)
    assert cache.get(YEAR) is None
    kept = cache.put(YEAR, cache.generation, report(YEAR))
    assert cache.get(YEAR) is kept
    # Another filter never gets this one's report.
    assert cache.get(PAVLODAR) is None
    cache.put(PAVLODAR, cache.generation, report(PAVLODAR))
    pavlodar = cache.get(PAVLODAR)
    assert pavlodar is not None and pavlodar.report.region == "pavlodar"
    assert cache.get(YEAR) is kept
    assert kept.json == report(YEAR).model_dump_json()
    await stop(task)


async def test_a_read_overtaken_by_an_invalidation_is_not_kept(bus: MemoryBus) -> None:
    cache = ReportCache(bus, ttl=10)
    task = await listening(cache)
    generation = cache.generation
    # A rollup change commits while the report is being read from the database...
    await cache.rollups_committed()
    served = cache.put(YEAR, generation, report(YEAR))
    # ...so the (possibly older) result is served to its own request, but not kept.
    assert served.report == report(YEAR)
    assert cache.get(YEAR) is None
    await stop(task)


async def test_entries_expire_after_the_ttl(bus: MemoryBus) -> None:
    clock = FakeMonotonic()
    cache = ReportCache(bus, ttl=10, monotonic=clock)
    task = await listening(cache)
    cache.put(YEAR, cache.generation, report(YEAR))
    clock.now += 9.9
    assert cache.get(YEAR) is not None
    clock.now += 0.1
    assert cache.get(YEAR) is None
    await stop(task)


async def test_nothing_is_kept_without_a_subscription_or_with_a_zero_ttl(bus: MemoryBus) -> None:
    unsubscribed = ReportCache(bus, ttl=10)
    unsubscribed.put(YEAR, unsubscribed.generation, report(YEAR))
    assert unsubscribed.get(YEAR) is None
    off = ReportCache(bus, ttl=0)
    task = await listening(off)
    off.put(YEAR, off.generation, report(YEAR))
    assert off.get(YEAR) is None
    await stop(task)


async def test_the_oldest_entry_makes_room(bus: MemoryBus) -> None:
    cache = ReportCache(bus, ttl=10, max_entries=2)
    task = await listening(cache)
    filters = [StatsFilter(date(2026, 1, d), date(2026, 2, 1)) for d in (1, 2, 3)]
    for f in filters:
        cache.put(f, cache.generation, report(f))
    assert [cache.get(f) is not None for f in filters] == [False, True, True]
    await stop(task)


async def test_a_commit_elsewhere_reaches_every_process_through_the_bus(bus: MemoryBus) -> None:
    here, there = ReportCache(bus, ttl=3600), ReportCache(bus, ttl=3600)
    tasks = [await listening(here), await listening(there)]
    for cache in (here, there):
        cache.put(YEAR, cache.generation, report(YEAR))
    generation_here = here.generation
    await there.rollups_committed()
    # The writer's own cache is dropped at once, the other one when the message arrives.
    assert there.get(YEAR) is None
    await until(lambda: here.generation != generation_here)
    assert here.get(YEAR) is None
    # Its own message does not drop the writer's cache a second time.
    there.put(YEAR, there.generation, report(YEAR))
    await bus.publish(CHANNEL, {"origin": there.origin})
    await until(lambda: here.generation == generation_here + 2)
    assert there.get(YEAR) is not None
    await stop(*tasks)


async def test_a_lost_subscription_empties_the_cache_until_it_is_back(bus: MemoryBus) -> None:
    cache = ReportCache(bus, ttl=3600)
    task = await listening(cache)
    cache.put(YEAR, cache.generation, report(YEAR))
    # The bus drops its subscribers (a Redis connection lost).
    await bus.close()
    await until(lambda: not cache.subscribed)
    assert cache.get(YEAR) is None
    await stop(task)
