from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

_CLOSED: dict[str, Any] = {}


class MemorySubscription:
    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self._bus = bus
        self._channels = channels
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            message = await self.queue.get()
            if message is _CLOSED:
                return
            yield message

    async def close(self) -> None:
        self._bus._unsubscribe(self)
        self.queue.put_nowait(_CLOSED)


class MemoryBus:
    """The single-process bus: subscribers are queues in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[MemorySubscription]] = defaultdict(set)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            if subscription.queue.full():
                # A consumer that stopped reading loses its oldest message, not the bus.
                subscription.queue.get_nowait()
            subscription.queue.put_nowait({"channel": channel, **message})

    async def subscribe(self, *channels: str) -> MemorySubscription:
        subscription = MemorySubscription(self, channels)
        for channel in channels:
            self._subscribers[channel].add(subscription)
        return subscription

    async def ping(self) -> None:
        """In this process: always there."""

    def _unsubscribe(self, subscription: MemorySubscription) -> None:
        for channel in subscription._channels:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                await subscription.close()
