from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub


class RedisSubscription:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for raw in self._pubsub.listen():
            if raw.get("type") != "message":
                continue
            channel = raw["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            yield {"channel": channel, **json.loads(raw["data"])}

    async def close(self) -> None:
        await self._pubsub.unsubscribe()
        await self._pubsub.aclose()


class RedisBus:
    """Redis pub/sub: every app process sees every message of the channels it subscribed."""

    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.redis.publish(channel, json.dumps(message, separators=(",", ":")))

    async def subscribe(self, *channels: str) -> RedisSubscription:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(*channels)
        return RedisSubscription(pubsub)

    async def close(self) -> None:
        await self.redis.aclose()
