"""Who is in a call right now, shared by every app process.

Each entry carries its own expiry and is refreshed by its connection's heartbeat, so a
process that dies takes its participants with it after one time-to-live: nobody needs to
clean up after it. In-process for a single server, a Redis hash when processes share Redis.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class PeerInfo:
    peer_id: str
    role: str
    user_id: str
    # The app process serving this participant ("" when not known): signals for the
    # participant go to that process alone.
    node: str = ""

    def public(self) -> dict[str, str]:
        # The user id lets the pages name each participant (two specialists share a role).
        return {"peer_id": self.peer_id, "role": self.role, "user_id": self.user_id}


class Presence(Protocol):
    async def add(self, room: str, peer: PeerInfo, ttl: float) -> None: ...

    async def enter(self, room: str, peer: PeerInfo, ttl: float) -> list[PeerInfo]:
        """Add ``peer``, then list everyone in the room (``peer`` too)."""
        ...

    async def refresh(self, room: str, peers: list[PeerInfo], ttl: float) -> None: ...

    async def remove(self, room: str, peer_id: str) -> None: ...

    async def peers(self, room: str) -> list[PeerInfo]: ...


class MemoryPresence:
    """One process: a dict of rooms, each entry with its expiry time."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, tuple[PeerInfo, float]]] = {}

    async def add(self, room: str, peer: PeerInfo, ttl: float) -> None:
        self._rooms.setdefault(room, {})[peer.peer_id] = (peer, time.time() + ttl)

    async def enter(self, room: str, peer: PeerInfo, ttl: float) -> list[PeerInfo]:
        await self.add(room, peer, ttl)
        return await self.peers(room)

    async def refresh(self, room: str, peers: list[PeerInfo], ttl: float) -> None:
        for peer in peers:
            await self.add(room, peer, ttl)

    async def remove(self, room: str, peer_id: str) -> None:
        entries = self._rooms.get(room)
        if entries is not None:
            entries.pop(peer_id, None)
            if not entries:
                del self._rooms[room]

    async def peers(self, room: str) -> list[PeerInfo]:
        now = time.time()
        entries = self._rooms.get(room, {})
        for peer_id in [p for p, (_, expires) in entries.items() if expires <= now]:
            del entries[peer_id]
        return sorted((peer for peer, _ in entries.values()), key=lambda p: p.peer_id)


class RedisPresence:
    """Several processes: one Redis hash per room, peer id → peer and expiry."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    @staticmethod
    def _key(room: str) -> str:
        return f"call-presence:{room}"

    async def add(self, room: str, peer: PeerInfo, ttl: float) -> None:
        await self.refresh(room, [peer], ttl)

    async def enter(self, room: str, peer: PeerInfo, ttl: float) -> list[PeerInfo]:
        # One round trip: the joining's welcome waits for it.
        return await self._write(room, [peer], ttl, listing=True)

    async def refresh(self, room: str, peers: list[PeerInfo], ttl: float) -> None:
        if peers:
            await self._write(room, peers, ttl, listing=False)

    async def _write(
        self, room: str, peers: list[PeerInfo], ttl: float, *, listing: bool
    ) -> list[PeerInfo]:
        expires = time.time() + ttl
        mapping = {p.peer_id: json.dumps({**asdict(p), "expires": expires}) for p in peers}
        key = self._key(room)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=mapping)
            # The hash itself goes once every entry in it would have expired.
            pipe.expire(key, int(ttl) + 60)
            if listing:
                pipe.hgetall(key)
            results = await pipe.execute()
        return await self._alive(room, results[2]) if listing else []

    async def remove(self, room: str, peer_id: str) -> None:
        await self.redis.hdel(self._key(room), peer_id)

    async def peers(self, room: str) -> list[PeerInfo]:
        return await self._alive(room, await self.redis.hgetall(self._key(room)))

    async def _alive(self, room: str, raw: dict[Any, Any]) -> list[PeerInfo]:
        """The entries of a room's hash that have not expired; the expired ones go."""
        now = time.time()
        alive: list[PeerInfo] = []
        expired: list[str] = []
        for field, value in raw.items():
            entry = json.loads(value)
            if entry.pop("expires") <= now:
                expired.append(field.decode() if isinstance(field, bytes) else field)
                continue
            alive.append(PeerInfo(**entry))
        if expired:
            await self.redis.hdel(self._key(room), *expired)
        return sorted(alive, key=lambda p: p.peer_id)


def presence_for(bus: Any) -> Presence:
    """Presence lives where the bus lives: in this process, or in the bus's Redis."""
    from ..bus.redis import RedisBus

    if isinstance(bus, RedisBus):
        return RedisPresence(bus.redis)
    return MemoryPresence()
