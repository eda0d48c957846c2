"""Redis pub/sub across app processes, on two dedicated connections per process.

Messages are small and latency matters (call signaling rides on this bus), so:

- one connection only publishes, with ``CLIENT REPLY OFF``: a publish is one write on its
  transport, never a wait for Redis's answer, and publishes leave in the order they were
  made;
- one connection holds every subscription of the process. The event loop reads it through
  a protocol object that parses each chunk (hiredis) and hands each message, decoded once,
  to the queues of the subscriptions of its channel in the same callback: no reader task or
  stream wakes up in between. ``subscribe`` returns once Redis has confirmed it, so nothing
  published afterwards is missed.

Pub/sub delivers at most once: a message published while a connection is down is lost, as
it would be for a subscriber that is not there yet. Both connections come back on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import hiredis
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


class _PublisherProtocol(asyncio.Protocol):
    """The publishing connection's protocol: Redis says nothing on it; EOF means it is gone."""

    def data_received(self, data: bytes) -> None:
        # With CLIENT REPLY OFF nothing comes back but a handshake reply we already read.
        pass

    def eof_received(self) -> bool:
        return False


class _Publisher:
    """The write-only connection: each PUBLISH is one write on its transport, no reply."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._conn: AbstractConnection | None = None
        self._transport: asyncio.WriteTransport | None = None
        self._lock = asyncio.Lock()
        self.client_id: int | None = None

    async def _open(self) -> asyncio.WriteTransport:
        async with self._lock:
            transport = self._transport
            if transport is not None and not transport.is_closing():
                return transport
            await self.close()
            conn, self.client_id = await _dedicated(self._pool, "teleconsult:publish")
            # From here on Redis answers nothing on this connection (not even this).
            await conn.send_command("CLIENT", "REPLY", "OFF", check_health=False)
            writer = conn._writer
            assert writer is not None
            transport = writer.transport
            # The loop now tells us when Redis closes it: the protocol sees the EOF.
            transport.set_protocol(_PublisherProtocol())
            self._conn, self._transport = conn, transport
            return transport

    async def publish(self, channel: str, data: str) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            transport = await self._open()
        transport.write(_pack("PUBLISH", channel, data))

    async def close(self) -> None:
        conn, self._conn, self._transport = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect(nowait=True)


def _pack(*args: str) -> bytes:
    """A Redis command in RESP: an array of bulk strings."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts += [f"${len(data)}\r\n".encode(), data, b"\r\n"]
    return b"".join(parts)


class _SubscriberProtocol(asyncio.Protocol):
    """The subscriber connection's reading side, driven by the event loop itself.

    Each chunk the socket delivers is parsed (hiredis) and handed out in the same callback:
    no reader task and no stream between the socket and the subscriptions' queues.
    """

    def __init__(self, handle: Callable[[Any], None], lost: asyncio.Future[None]) -> None:
        self._parser = hiredis.Reader()
        self._handle = handle
        self._lost = lost

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
        while (response := self._parser.gets()) is not False:
            try:
                self._handle(response)
            except Exception:
                log.exception("could not hand out a Redis message")

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(None)


class _Listener:
    """The subscriber connection shared by every subscription of the process.

    redis-py opens it (address, password, TLS, protocol handshake); then the loop reads it
    through :class:`_SubscriberProtocol`, and a supervising task reconnects when it drops.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._conn: AbstractConnection | None = None
        self._transport: asyncio.WriteTransport | None = None
        self._subscribers: dict[str, set[RedisSubscription]] = {}
        # Channels asked of Redis and not confirmed yet.
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self.client_id: int | None = None

    async def add(self, subscription: RedisSubscription) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._run())
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
                        self._send("SUBSCRIBE", *new)
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
                self._send("UNSUBSCRIBE", *gone)

    def _send(self, *command: str) -> None:
        """Write a command; while disconnected, the reconnection subscribes afresh instead."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(_pack(*command))

    async def _connect(self) -> asyncio.Future[None]:
        """Connect and subscribe to every channel still wanted; the future is the drop."""
        conn, client_id = await _dedicated(self._pool, "teleconsult:subscribe")
        # From here on the loop reads the socket for us; redis-py only set the connection up.
        writer = conn._writer
        assert writer is not None
        transport = writer.transport
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        transport.set_protocol(_SubscriberProtocol(self._handle, lost))
        if transport.is_closing():
            # Dropped while redis-py still had it: its stream, not ours, heard of it.
            await conn.disconnect(nowait=True)
            raise RedisConnectionError("The subscriber connection closed as it opened.")
        async with self._lock:
            self._conn, self._transport, self.client_id = conn, transport, client_id
            # After a reconnection: everything still wanted, subscribed again.
            if self._subscribers:
                self._send("SUBSCRIBE", *self._subscribers)
            self._connected.set()
        return lost

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                lost = await self._connect()
                delay = 0.1
                await lost
                log.warning("Redis subscriber connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except _LOST as exc:
                log.warning("Redis subscriber connection failed (%s); reconnecting", exc)
            except Exception:
                log.exception("Redis subscriber failed; reconnecting")
            self._connected.clear()
            await self._disconnect()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _disconnect(self) -> None:
        conn, self._conn, self._transport = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect(nowait=True)

    def _handle(self, response: Any) -> None:
        if not isinstance(response, list) or len(response) < 3:
            if isinstance(response, Exception):
                log.warning("Redis refused a subscriber command: %s", response)
            return
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
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        for waiting in self._confirming.values():
            waiting.cancel()
        self._confirming.clear()
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.put(_CLOSED)
        self._subscribers.clear()
        await self._disconnect()


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
