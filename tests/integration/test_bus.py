"""The event bus: the in-process one and Redis pub/sub, through the same port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from teleconsult.bus import EventBus, Subscription
from teleconsult.bus.memory import MemoryBus
from teleconsult.bus.redis import RedisBus
from teleconsult.eventloop import new_event_loop

from ..conftest import REDIS_URL_ENV, service_url

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EventBus, EventBus]]:
    """Two buses that share their messages, as two app processes do."""
    if request.param == "memory":
        bus = MemoryBus()
        yield bus, bus
        await bus.close()
        return
    url = service_url(REDIS_URL_ENV, "Redis")
    a, b = RedisBus(url), RedisBus(url)
    yield a, b
    await a.close()
    await b.close()


def channel(name: str, request: pytest.FixtureRequest) -> str:
    # Tests of other runs may share the Redis server: channels carry the test's own id.
    return f"test:{request.node.nodeid}:{name}"


async def receive(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    async def read() -> None:
        async for message in subscription:
            got.append(message)
            if len(got) == count:
                return

    await asyncio.wait_for(read(), 5)
    return got


async def test_every_subscriber_gets_each_message_in_order(
    buses: tuple[EventBus, EventBus], request: pytest.FixtureRequest
) -> None:
    a, b = buses
    ch, other = channel("room", request), channel("other", request)
    first = await b.subscribe(ch)
    second = await b.subscribe(ch, other)
    # Subscribed means listening: published at once from the other side, nothing is lost.
    for i in range(20):
        await a.publish(ch, {"i": i})
    await a.publish(other, {"i": "elsewhere"})
    assert [m["i"] for m in await receive(first, 20)] == list(range(20))
    got = await receive(second, 21)
    assert [m["i"] for m in got] == [*range(20), "elsewhere"]
    assert {m["channel"] for m in got} == {ch, other}
    await first.close()
    await second.close()


async def test_a_closed_subscription_gets_nothing_more_and_others_go_on(
    buses: tuple[EventBus, EventBus], request: pytest.FixtureRequest
) -> None:
    a, b = buses
    ch = channel("room", request)
    leaving = await b.subscribe(ch)
    staying = await b.subscribe(ch)
    await leaving.close()
    await a.publish(ch, {"n": 1})
    assert [m["n"] for m in await receive(staying, 1)] == [1]
    # The closed one ends its iteration without the message.

    async def rest() -> list[dict[str, Any]]:
        return [m async for m in leaving]

    assert await asyncio.wait_for(rest(), 5) == []
    await staying.close()


async def connection_ids(bus: RedisBus, kind: str) -> set[int]:
    """The Redis client ids of a bus's connections of one kind (``normal``, ``pubsub``)."""
    return {int(c["id"]) for c in await bus.redis.client_list(_type=kind) if c["name"] == bus.name}


async def kill(bus: RedisBus, ids: set[int]) -> None:
    for client_id in ids:
        await bus.redis.client_kill_filter(_id=str(client_id))


async def comes_back(subscription: Subscription, publisher: EventBus, ch: str) -> int:
    """Publishes until ``subscription`` gets one again; returns how many it took."""
    n = 0
    while True:
        n += 1
        assert n < 100, "the subscriber did not come back"
        try:
            await publisher.publish(ch, {"n": n})
        except RedisConnectionError:  # Redis is still starting
            await asyncio.sleep(0.2)
            continue
        try:
            await asyncio.wait_for(anext(aiter(subscription)), 0.2)
            return n
        except TimeoutError:
            pass


async def kill_and_come_back(url: str, ch: str) -> None:
    """Both kinds of connection of a Redis bus are cut; each comes back by itself."""
    a, b = RedisBus(url), RedisBus(url)
    try:
        subscription = await b.subscribe(ch)
        await a.publish(ch, {"n": 0})
        assert [m["n"] for m in await receive(subscription, 1)] == [0]

        # The subscriber's connection is cut: it reconnects and subscribes again by itself.
        killed = await connection_ids(b, "pubsub")
        assert len(killed) == 1
        await kill(a, killed)

        await comes_back(subscription, a, ch)
        comeback = await connection_ids(b, "pubsub")
        assert len(comeback) == 1 and not comeback & killed

        # The publisher's connections are cut: the next publishes still arrive.
        killed = await connection_ids(a, "normal")
        assert killed
        await kill(b, killed)
        await asyncio.sleep(0.1)  # the close reaches the client
        await a.publish(ch, {"n": "after"})
        assert [m["n"] for m in await receive(subscription, 1)] == ["after"]
        assert not await connection_ids(a, "normal") & killed
        await subscription.close()
    finally:
        await a.close()
        await b.close()


@pytest.mark.redis
async def test_redis_connections_come_back_after_being_killed(
    request: pytest.FixtureRequest,
) -> None:
    await kill_and_come_back(service_url(REDIS_URL_ENV, "Redis"), channel("room", request))


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["uvloop", "asyncio"])
def test_the_redis_bus_works_on_each_server_loop(kind: str, request: pytest.FixtureRequest) -> None:
    """``teleconsult serve`` runs on uvloop where it is installed: the bus reconnects there
    too."""
    url = service_url(REDIS_URL_ENV, "Redis")
    with asyncio.Runner(loop_factory=lambda: new_event_loop(kind)) as runner:
        assert type(runner.get_loop()).__module__.split(".")[0] == kind
        runner.run(kill_and_come_back(url, channel("room", request)))


@pytest.mark.redis
async def test_redis_drops_a_foreign_message_that_is_not_json(
    request: pytest.FixtureRequest,
) -> None:
    url = service_url(REDIS_URL_ENV, "Redis")
    bus = RedisBus(url)
    try:
        ch = channel("room", request)
        subscription = await bus.subscribe(ch)
        await bus.redis.publish(ch, b"not json")
        await bus.redis.publish(ch, b"[1, 2]")
        await bus.publish(ch, {"ok": True})
        assert [m.get("ok") for m in await receive(subscription, 1)] == [True]
        await subscription.close()
    finally:
        await bus.close()


@pytest.mark.redis
async def test_subscriptions_come_back_after_redis_restarts(own_redis: tuple[str, Any]) -> None:
    url, server = own_redis
    a, b = RedisBus(url), RedisBus(url)
    try:
        for _ in range(50):  # the server is starting
            try:
                subscription = await b.subscribe("room")
                break
            except RedisConnectionError:
                await asyncio.sleep(0.1)
        await comes_back(subscription, a, "room")
        server.stop()
        # While Redis is away, publishing fails and the reader keeps trying.
        with pytest.raises(RedisConnectionError):
            await a.publish("room", {"n": "lost"})
        await asyncio.sleep(1)
        server.start()
        # Back: the reader reconnected and subscribed the new connection again.
        await comes_back(subscription, a, "room")
        assert len(await connection_ids(b, "pubsub")) == 1
        await subscription.close()
    finally:
        await a.close()
        await b.close()
