from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

# RFC 6455: the server is overloaded or a service it needs is away; try again later. A
# websocket that needs the bus closes with it while the bus is away (``BusUnavailable``).
CLOSE_TRY_AGAIN_LATER = 1013


class BusUnavailable(Exception):
    """The bus cannot be reached (Redis down or not answering)."""


class Subscription(Protocol):
    """An open subscription; iterate for messages, close when done."""

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class EventBus(Protocol):
    """Publish JSON-able messages on named channels; every subscriber of a channel gets each."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    async def subscribe(self, *channels: str) -> Subscription: ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Return when the bus is reachable, quickly; raise :class:`BusUnavailable` if not."""
        ...
