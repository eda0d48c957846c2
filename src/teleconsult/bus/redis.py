"""Redis pub/sub across app processes, on two dedicated connections per process.

Messages are small and latency matters (call signaling rides on this bus), so:

- one connection only publishes, with ``CLIENT REPLY OFF``: a publish is one socket write,
  never a wait for Redis's answer, and publishes leave in the order they were made;
- one connection holds every subscription of the process; a reader task hands each message,
  decoded once, to the queues of the subscriptions of its channel. ``subscribe`` returns
  once Redis has confirmed it, so nothing published afterwards is missed.

Pub/sub delivers at most once: a message published while a connection is down is lost, as
it would be for a subscriber that is not there yet. Both connections come back on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("teleconsult.bus")

_CLOSED: dict[str, Any] = {}
_QUEUE_SIZE = 1000
_SUBSCRIBE_TIMEOUT = 10.0
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)


async def _dedicated(pool: ConnectionPool, name: str) -> tuple[AbstractConnection, int]:
    """A connection of the pool's kind (address, password, TLS) kept out of the pool.

    It has no read timeout (a subscriber waits for messages as long as it takes) and a
    name that ``CLIENT LIST`` shows; returns it with its Redis client id.
    """
    conn = pool.make_connection()
    conn.socket_timeout = None
    await conn.connect()
    await conn.send_command("CLIENT", "SETNAME", name, check_health=False)
    await conn.read_response()
    await conn.send_command("CLIENT", "ID", check_health=False)
    return conn, int(await conn.read_response())


def _closed_by_server(conn: AbstractConnection) -> bool:
    """Redis never writes to the publishing connection, so anything readable means EOF."""
    reader = getattr(conn, "_reader", None)
    return reader is not None and reader.at_eof()


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


class _Publisher:
    """The write-only connection: PUBLISH commands, no replies to read."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._conn: AbstractConnection | None = None
        self._lock = asyncio.Lock()
        self.client_id: int | None = None

    def _usable(self) -> AbstractConnection | None:
        conn = self._conn
        if conn is None or not conn.is_connected or _closed_by_server(conn):
            return None
        return conn

    async def _open(self) -> AbstractConnection:
        async with self._lock:
            conn = self._usable()
            if conn is None:
                if self._conn is not None:
                    await self._conn.disconnect()
                    self._conn = None
                conn, self.client_id = await _dedicated(self._pool, "teleconsult:publish")
                # From here on Redis answers nothing on this connection (not even this).
                await conn.send_command("CLIENT", "REPLY", "OFF", check_health=False)
                self._conn = conn
            return conn

    async def publish(self, channel: str, data: str) -> None:
        conn = self._usable() or await self._open()
        try:
            await conn.send_packed_command(
                conn.pack_command("PUBLISH", channel, data), check_health=False
            )
        except _LOST:
            # Dropped since the last write: one more try on a new connection.
            conn = await self._open()
            await conn.send_packed_command(
                conn.pack_command("PUBLISH", channel, data), check_health=False
            )

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.disconnect()
            self._conn = None


class _Listener:
    """The subscriber connection shared by every subscription of the process."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._conn: AbstractConnection | None = None
        self._subscribers: dict[str, set[RedisSubscription]] = {}
        # Channels asked of Redis and not confirmed yet.
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self.client_id: int | None = None

    async def add(self, subscription: RedisSubscription) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        try:
            async with asyncio.timeout(_SUBSCRIBE_TIMEOUT):
                await self._connected.wait()
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
                        await self._send("SUBSCRIBE", *new)
                if waits:
                    # wait, not gather: a subscriber that goes away must not cancel the
                    # confirmation another subscriber of the same channel waits for.
                    await asyncio.wait(waits)
        except TimeoutError:
            await self.remove(subscription)
            raise RedisConnectionError("Redis did not confirm the subscription.") from None

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
            if gone:
                await self._send("UNSUBSCRIBE", *gone)

    async def _send(self, *command: str) -> None:
        """Write a command; while disconnected, the reconnection subscribes afresh instead."""
        conn = self._conn
        # Checked right before the write: redis-py would otherwise reconnect this connection
        # behind the reader's back, without its subscriptions.
        if conn is None or not conn.is_connected:
            return
        with contextlib.suppress(*_LOST):
            await conn.send_packed_command(conn.pack_command(*command), check_health=False)

    async def _connect(self) -> None:
        conn, client_id = await _dedicated(self._pool, "teleconsult:subscribe")
        async with self._lock:
            self._conn, self.client_id = conn, client_id
            # After a reconnection: everything still wanted, subscribed again.
            if self._subscribers:
                await self._send("SUBSCRIBE", *self._subscribers)
            self._connected.set()

    async def _read(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._connect()
                assert self._conn is not None
                delay = 0.1
                while True:
                    self._handle(await self._conn.read_response(push_request=True))
            except asyncio.CancelledError:
                raise
            except _LOST as exc:
                log.warning("Redis subscriber connection lost (%s); reconnecting", exc)
            except Exception:
                log.exception("Redis subscriber failed; reconnecting")
            self._connected.clear()
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.disconnect()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _handle(self, response: Any) -> None:
        kind = _text(response[0])
        channel = _text(response[1])
        if kind == "message":
            subscribers = self._subscribers.get(channel)
            if not subscribers:
                return
            try:
                # Decoded once; every subscriber reads the same dict (and must not change it).
                message = {"channel": channel, **json.loads(response[2])}
            except (ValueError, TypeError):
                log.warning("dropped a message on %s that is not a JSON object", channel)
                return
            for subscription in subscribers:
                subscription.put(message)
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
        if self._conn is not None:
            await self._conn.disconnect()
            self._conn = None


class RedisBus:
    """Redis pub/sub: every app process sees every message of the channels it subscribed.

    ``redis`` is the ordinary client for other commands (presence).
    """

    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url)
        pool = self.redis.connection_pool
        self._publisher = _Publisher(pool)
        self._listener = _Listener(pool)

    def client_ids(self) -> dict[str, int | None]:
        """The Redis client ids of the two connections (``CLIENT LIST``, ``CLIENT KILL``)."""
        return {"publish": self._publisher.client_id, "subscribe": self._listener.client_id}

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._publisher.publish(channel, json.dumps(message, separators=(",", ":")))

    async def subscribe(self, *channels: str) -> RedisSubscription:
        subscription = RedisSubscription(self._listener, channels)
        await self._listener.add(subscription)
        return subscription

    async def close(self) -> None:
        await self._listener.close()
        await self._publisher.close()
        await self.redis.aclose()
