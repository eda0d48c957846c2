from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class Subscription(Protocol):
    """An open subscription; iterate for messages, close when done."""

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class EventBus(Protocol):
    """Publish JSON-able messages on named channels; every subscriber of a channel gets each."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    async def subscribe(self, *channels: str) -> Subscription: ...

    async def close(self) -> None: ...
