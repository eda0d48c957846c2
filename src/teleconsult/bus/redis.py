"""Redis pub/sub across app processes, through redis-py's own asyncio client.

- Publishing goes through the ordinary client and its connection pool. Publishes that one
  task awaits one after another arrive in that order.
- Each process has one pub/sub connection (redis-py's ``PubSub``) for every subscription
  it holds. A reader task takes each message off it, decodes its JSON once and hands it to
  the queues of that channel's subscriptions. ``subscribe`` returns once Redis has
  confirmed it, so nothing published afterwards is missed.

Pub/sub delivers at most once: a message published while a connection is down is lost, as
it would be for a subscriber that is not there yet. redis-py reconnects by itself and
subscribes the new pub/sub connection to every channel the old one had. While Redis is
away the reader keeps trying, backing off up to five seconds between tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .base import BusUnavailable

log = logging.getLogger("teleconsult.bus")

_CLOSED: dict[str, Any] = {}
_QUEUE_SIZE = 1000
_SUBSCRIBE_TIMEOUT = 10.0
# A ping answers in well under a millisecond; a Redis that has not answered in this long
# is away for a websocket that is about to depend on it.
_PING_TIMEOUT = 1.0
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisSubscription:
    def __init__(self, listener: _Listener, channels: tuple[str, ...]) -> None:
        self._listener = listener
        self.channels = channels
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_QUEUE_SIZE)

    def put(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            # A consumer that stopped reading loses its oldest message, not the bus.
            self.queue.get_nowait()
        self.queue.put_nowait(message)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            message = await self.queue.get()
            if message is _CLOSED:
                return
            yield message

    async def close(self) -> None:
        await self._listener.remove(self)
        self.put(_CLOSED)


class _Listener:
    """The pub/sub connection shared by every subscription of the process."""

    def __init__(self, redis: Redis) -> None:
        self._pubsub = redis.pubsub()
        self._subscribers: dict[str, set[RedisSubscription]] = {}
        # Channels asked of Redis and not confirmed yet.
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def add(self, subscription: RedisSubscription) -> None:
        try:
            async with asyncio.timeout(_SUBSCRIBE_TIMEOUT):
                async with self._lock:
                    new = [c for c in subscription.channels if c not in self._subscribers]
                    for channel in subscription.channels:
                        self._subscribers.setdefault(channel, set()).add(subscription)
                    loop = asyncio.get_running_loop()
                    for channel in new:
                        self._confirming[channel] = loop.create_future()
                    waits = [
                        self._confirming[c] for c in subscription.channels if c in self._confirming
                    ]
                    if new:
                        await self._pubsub.subscribe(*new)
                    if self._reader is None:
                        # redis-py reads nothing before the first SUBSCRIBE has gone out.
                        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")
                if waits:
                    # wait, not gather: a subscriber that goes away must not cancel the
                    # confirmation another subscriber of the same channel waits for.
                    await asyncio.wait(waits)
        except (TimeoutError, *_LOST) as exc:
            await self.remove(subscription)
            raise RedisConnectionError("Redis did not confirm the subscription.") from exc

    async def remove(self, subscription: RedisSubscription) -> None:
        async with self._lock:
            gone = []
            for channel in subscription.channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is None:
                    continue
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]
                    gone.append(channel)
                    waiting = self._confirming.pop(channel, None)
                    if waiting is not None:
                        waiting.cancel()
            if gone:
                try:
                    await self._pubsub.unsubscribe(*gone)
                except _LOST:
                    # Messages of a channel nobody here wants are dropped on arrival.
                    log.warning("could not unsubscribe from %s; Redis is unreachable", gone)

    async def _read(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except _LOST as exc:
                log.warning("Redis pub/sub connection lost (%s); reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            except Exception:
                log.exception("Redis pub/sub reader failed; reconnecting")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = _text(message["channel"])
        if kind == "message":
            subscribers = self._subscribers.get(channel)
            if not subscribers:
                return
            try:
                # Decoded once; every subscriber reads the same dict (and must not change it).
                decoded = {"channel": channel, **json.loads(message["data"])}
            except (ValueError, TypeError):
                log.warning("dropped a message on %s that is not a JSON object", channel)
                return
            for subscription in subscribers:
                subscription.put(decoded)
        elif kind == "subscribe":
            waiting = self._confirming.pop(channel, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for waiting in self._confirming.values():
            waiting.cancel()
        self._confirming.clear()
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.put(_CLOSED)
        self._subscribers.clear()
        await self._pubsub.aclose()


class RedisBus:
    """Redis pub/sub: every app process sees every message of the channels it subscribed.

    ``redis`` is the ordinary client, also for other commands (presence). Every connection
    of the bus carries ``name`` (``CLIENT LIST`` shows it).
    """

    def __init__(self, url: str, *, name: str | None = None) -> None:
        self.name = name or f"teleconsult:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.redis: Redis = Redis.from_url(url, client_name=self.name)
        self._listener = _Listener(self.redis)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.redis.publish(channel, json.dumps(message, separators=(",", ":")))

    async def subscribe(self, *channels: str) -> RedisSubscription:
        subscription = RedisSubscription(self._listener, channels)
        await self._listener.add(subscription)
        return subscription

    async def ping(self) -> None:
        """One PING on the ordinary client (a pooled connection, or a new one)."""
        try:
            async with asyncio.timeout(_PING_TIMEOUT):
                await self.redis.ping()
        except (TimeoutError, *_LOST) as exc:
            raise BusUnavailable(f"Redis does not answer: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self._listener.close()
        await self.redis.aclose()
