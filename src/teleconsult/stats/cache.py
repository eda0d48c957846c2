"""Statistics reports kept in the process until a rollup change is committed anywhere.

Reading a year by specialty merges a few hundred histograms, and an administrator's
dashboard asks for the same filters again and again. A report is kept in each app process,
keyed by its resolved filter (first and last day, region, facility, granularity), and
dropped:

- in the process that wrote, right after a transaction that changed rollups commits (an
  after-commit hook of the unit of work, run before the writer's response is sent), so the
  writer's next read is exact;
- in every other process when the invalidation published on the event bus
  (:data:`CHANNEL`) arrives: with Redis, milliseconds after the commit. While a process is
  not subscribed (starting up, reconnecting) it serves nothing from its cache;
- in any case ``ttl`` seconds after it was computed (``TELECONSULT_STATS_CACHE_SECONDS``,
  default 10; 0 turns the cache off). This is the bound for the cases the bus cannot
  cover: a message lost on a live subscription, or rollups written outside a running app
  (``seed-demo`` and other commands).

A read that started before an invalidation answers its own request but is not kept
(generation check): no later request gets a report older than the last invalidation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .rollups import ON_COMMIT

if TYPE_CHECKING:
    from ..bus import EventBus
    from .schemas import SpecialtyStatsReport, StatsFilter

log = logging.getLogger("teleconsult.stats")

CHANNEL = "stats.rollups"
MAX_ENTRIES = 256
RESUBSCRIBE_SECONDS = 1.0


@dataclass(slots=True)
class CachedReport:
    """A report and its JSON, rendered once."""

    report: SpecialtyStatsReport
    _json: str | None = field(default=None, repr=False)

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = self.report.model_dump_json()
        return self._json


@dataclass(slots=True)
class _Entry:
    generation: int
    expires_at: float
    value: CachedReport


class ReportCache:
    """This process's statistics reports; see the module docstring for when they go."""

    def __init__(
        self,
        bus: EventBus,
        ttl: float,
        *,
        max_entries: int = MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self.ttl = ttl
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[StatsFilter, _Entry] = {}
        # Bumped by every invalidation; a result is stored only under the generation it was
        # read in.
        self.generation = 0
        self.subscribed = False
        self.origin = uuid.uuid4().hex
        self.hits = 0
        self.misses = 0

    @property
    def session_info(self) -> dict[str, Any]:
        """What the app's sessions carry so that rollup writers reach this cache."""
        return {ON_COMMIT: self.rollups_committed}

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.subscribed

    def get(self, key: StatsFilter) -> CachedReport | None:
        entry = self._entries.get(key)
        if entry is not None and (
            not self.enabled
            or entry.generation != self.generation
            or entry.expires_at <= self._monotonic()
        ):
            del self._entries[key]
            entry = None
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return entry.value

    def put(self, key: StatsFilter, generation: int, report: SpecialtyStatsReport) -> CachedReport:
        """Keep ``report`` if nothing was invalidated since ``generation`` was read."""
        value = CachedReport(report)
        if self.enabled and generation == self.generation:
            self._entries.pop(key, None)
            if len(self._entries) >= self._max_entries:
                # The oldest entry goes (dicts keep insertion order).
                del self._entries[next(iter(self._entries))]
            self._entries[key] = _Entry(generation, self._monotonic() + self.ttl, value)
        return value

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def rollups_committed(self) -> None:
        """After-commit hook of a transaction that changed rollups: drop this process's
        reports now, and tell the other processes through the bus."""
        self.invalidate()
        try:
            await self._bus.publish(CHANNEL, {"origin": self.origin})
        except Exception:
            # The change is committed; other processes catch up within the TTL.
            log.warning("could not publish a statistics invalidation", exc_info=True)

    async def listen(self) -> None:
        """Drop reports whenever another process commits a rollup change; run as a task."""
        while True:
            try:
                subscription = await self._bus.subscribe(CHANNEL)
            except Exception:
                log.warning("statistics cache: cannot subscribe to the bus", exc_info=True)
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
                continue
            # Changes made while we were not listening are unknown: start afresh.
            self.invalidate()
            self.subscribed = True
            try:
                async for message in subscription:
                    if message.get("origin") != self.origin:
                        self.invalidate()
            except Exception:
                log.warning("statistics cache: bus subscription lost", exc_info=True)
            finally:
                self.subscribed = False
                self.invalidate()
                try:
                    await subscription.close()
                except Exception:
                    log.debug("statistics cache: closing the subscription failed", exc_info=True)
            await asyncio.sleep(RESUBSCRIBE_SECONDS)
