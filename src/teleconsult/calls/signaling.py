"""The signaling hub: call rooms joined through websockets, spread over the event bus.

Every process keeps the rooms its own websockets are in. Comings and goings go through the
bus channel ``call:<consultation id>``, heard by every process with someone in the room;
a participant's message goes straight to its recipients on this process, and over the bus
only to the processes serving the others (``call:<consultation id>:<process>``), so no
process hears its own messages back. Two participants connected to two processes meet
exactly as if they shared one; presence (see :mod:`.presence`) says who is in a room and on
which process, and a heartbeat expires participants of a process that died.

The relay path does no database or presence work and logs nothing: a message is checked
once (size, JSON, type, rate), encoded once, and written once per receiving process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from ..bus import CLOSE_TRY_AGAIN_LATER, EventBus, Subscription
from ..config import Settings
from ..consultations.participants import MAX_PEOPLE
from .presence import PeerInfo, Presence
from .rules import BadSignal, FloodGate, Signal, is_polite, parse_signal

log = logging.getLogger("teleconsult.calls")

CLOSE_REPLACED = 4001
# A fifth person in a call (the browser mesh carries four: consultations/participants.py).
CLOSE_CALL_FULL = 4009
CLOSE_FLOOD = 4008

StaleHook = Callable[[str], Awaitable[None]]


class Gateway(Protocol):
    """What the hub needs from the media gateway (relay mode)."""

    async def answer(self, room: str, peer_id: str, sdp: str, record: bool = False) -> str: ...

    async def add_candidate(
        self, room: str, peer_id: str, candidate: dict[str, Any] | None
    ) -> None: ...

    async def drop(self, room: str, peer_id: str) -> None: ...


class ClosingGateway(Gateway, Protocol):
    async def close(self) -> None: ...


class LazyGateway:
    """The media gateway, opened on the first relay call: a server that only ever signals
    peer-to-peer calls never loads aiortc and PyAV (about 60 MiB of memory)."""

    def __init__(self, open_gateway: Callable[[], ClosingGateway]) -> None:
        self._open = open_gateway
        self._gateway: ClosingGateway | None = None

    @property
    def opened(self) -> ClosingGateway:
        if self._gateway is None:
            self._gateway = self._open()
        return self._gateway

    async def answer(self, room: str, peer_id: str, sdp: str, record: bool = False) -> str:
        return await self.opened.answer(room, peer_id, sdp, record)

    async def add_candidate(
        self, room: str, peer_id: str, candidate: dict[str, Any] | None
    ) -> None:
        await self.opened.add_candidate(room, peer_id, candidate)

    async def drop(self, room: str, peer_id: str) -> None:
        if self._gateway is not None:
            await self._gateway.drop(room, peer_id)

    async def close(self) -> None:
        if self._gateway is not None:
            await self._gateway.close()


@dataclass
class LocalPeer:
    info: PeerInfo
    ws: web.WebSocketResponse
    # Messages that arrive before the welcome wait here: the welcome is always first.
    backlog: list[dict[str, Any]] | None = field(default_factory=list)

    async def send(self, message: dict[str, Any]) -> None:
        if self.backlog is not None:
            self.backlog.append(message)
            return
        await self._write(message)

    async def send_text(self, text: str) -> None:
        """Send JSON already encoded by the sender's process."""
        if self.backlog is not None:
            self.backlog.append(json.loads(text))
            return
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(text)

    async def welcome(self, message: dict[str, Any]) -> None:
        await self._write(message)
        listed = {p["peer_id"] for p in message["peers"]}
        backlog, self.backlog = self.backlog or [], None
        for queued in backlog:
            if queued.get("type") == "peer-joined" and queued.get("peer_id") in listed:
                continue
            await self._write(queued)

    async def _write(self, message: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_json(message)


@dataclass
class Room:
    id: str
    subscription: Subscription
    peers: dict[str, LocalPeer] = field(default_factory=dict)
    # Every peer this process has told its own websockets about, local or remote.
    known: dict[str, PeerInfo] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def channel(self) -> str:
        return f"call:{self.id}"

    def inbox(self, node: str) -> str:
        """The channel of the messages for this room's participants on process ``node``."""
        return f"call:{self.id}:{node}"


class SignalingHub:
    """The rooms of this process; lives on the app and is closed with it."""

    def __init__(
        self,
        bus: EventBus,
        presence: Presence,
        settings: Settings,
        gateway: Gateway | None = None,
        on_stale: StaleHook | None = None,
    ) -> None:
        self.bus = bus
        self.presence = presence
        self.settings = settings
        self.gateway = gateway
        self.on_stale = on_stale
        self.rooms: dict[str, Room] = {}
        self._lock = asyncio.Lock()
        # Messages on their way from synchronous callers (the gateway's slots), held so
        # they are not collected before they are sent.
        self._sending: set[asyncio.Task[None]] = set()
        # Marks this process's own messages, already delivered locally, when the bus echoes them.
        self.origin = secrets.token_hex(8)

    # --- rooms -------------------------------------------------------------------------------

    async def _open(self, room_id: str, peer: LocalPeer) -> Room:
        async with self._lock:
            room = self.rooms.get(room_id)
            if room is None:
                channel = f"call:{room_id}"
                subscription = await self.bus.subscribe(channel, f"{channel}:{self.origin}")
                room = Room(room_id, subscription)
                room.tasks = [
                    asyncio.create_task(self._listen(room)),
                    asyncio.create_task(self._heartbeat(room)),
                ]
                self.rooms[room_id] = room
            # Listening before being listed: nothing said to us after others see us is lost.
            # Under the lock, so the room cannot be closed between opening and entering.
            room.peers[peer.info.peer_id] = peer
            return room

    async def _close_if_empty(self, room: Room) -> None:
        async with self._lock:
            if room.peers or self.rooms.get(room.id) is not room:
                return
            del self.rooms[room.id]
        await _stop(room)

    async def close(self) -> None:
        for room in list(self.rooms.values()):
            for peer in list(room.peers.values()):
                await peer.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
            await _stop(room)
        self.rooms.clear()

    # --- one connection ------------------------------------------------------------------------

    async def serve(
        self,
        ws: web.WebSocketResponse,
        room_id: str,
        me: PeerInfo,
        mode: str,
        record: bool = False,
    ) -> None:
        """Run one participant's websocket from welcome to goodbye (``record``: via the gateway)."""
        peer = LocalPeer(dataclasses.replace(me, node=self.origin), ws)
        try:
            room = await self._open(room_id, peer)
        except Exception as exc:
            # The bus went away between the ping before the ticket and the room's
            # subscription: a clear close, not a broken frame.
            log.warning("call room %s cannot open: %s", room_id, type(exc).__name__)
            await ws.close(code=CLOSE_TRY_AGAIN_LATER, message=b"call signaling unavailable")
            return
        try:
            if not await self._enter(room, peer, mode):
                return
            await self._receive(room, peer, mode, record)
        finally:
            # Runs to the end even when aiohttp cancels the handler of a vanished client.
            await asyncio.shield(self._goodbye(room, peer))

    async def _goodbye(self, room: Room, peer: LocalPeer) -> None:
        await self._leave(room, peer)
        await self._close_if_empty(room)

    async def _enter(self, room: Room, peer: LocalPeer, mode: str) -> bool:
        """Welcome the participant and tell the others; False (and closed) when the call
        already holds four other people."""
        ttl = self.settings.call_presence_ttl_seconds
        others: list[PeerInfo] = []
        for other in await self.presence.enter(room.id, peer.info, ttl):
            if other.peer_id == peer.info.peer_id:
                continue
            if other.user_id == peer.info.user_id:
                # A second connection of the same participant replaces the older one.
                await self.presence.remove(room.id, other.peer_id)
                await self.bus.publish(room.channel, {"kind": "replace", "peer_id": other.peer_id})
                continue
            others.append(other)
        if len({o.user_id for o in others}) >= MAX_PEOPLE:
            await self.presence.remove(room.id, peer.info.peer_id)
            peer.backlog = None  # nothing said in the room is for this socket
            await peer._write(_error("call_full", _FULL))
            await peer.ws.close(code=CLOSE_CALL_FULL, message=b"call full")
            return False
        for other in others:
            room.known[other.peer_id] = other
        room.known[peer.info.peer_id] = peer.info
        await peer.welcome(
            {
                "type": "welcome",
                "peer_id": peer.info.peer_id,
                "role": peer.info.role,
                "polite": is_polite(peer.info.peer_id, [o.peer_id for o in others]),
                "mode": mode,
                # Each pair negotiates on its own (a mesh when three are in a call), so each
                # pair has its own polite side.
                "peers": [
                    {**o.public(), "polite": is_polite(peer.info.peer_id, [o.peer_id])}
                    for o in others
                ],
            }
        )
        await self.bus.publish(room.channel, {"kind": "joined", "peer": peer.info.__dict__})
        return True

    async def _leave(self, room: Room, peer: LocalPeer) -> None:
        room.peers.pop(peer.info.peer_id, None)
        if self.gateway is not None:
            await self.gateway.drop(room.id, peer.info.peer_id)
        with contextlib.suppress(Exception):
            await self.presence.remove(room.id, peer.info.peer_id)
            await self.bus.publish(room.channel, {"kind": "left", "peer_id": peer.info.peer_id})

    async def _receive(self, room: Room, peer: LocalPeer, mode: str, record: bool) -> None:
        gate = FloodGate(self.settings.call_max_messages_per_second, time.monotonic())
        async for msg in peer.ws:
            if msg.type == WSMsgType.ERROR:
                # aiohttp already closed the socket (e.g. a frame over max_msg_size).
                return
            if msg.type != WSMsgType.TEXT:
                await peer.send(_error("malformed", "Messages are JSON text."))
                continue
            if not gate.allow(time.monotonic()):
                await peer.send(_error("flood", "More than the allowed messages a second."))
                await peer.ws.close(code=CLOSE_FLOOD, message=b"flood")
                return
            try:
                signal = parse_signal(msg.data)
            except BadSignal as exc:
                await peer.send(_error(exc.error, exc.detail))
                continue
            if signal.type == "ping":
                await peer.send({"type": "pong"})
            elif signal.type == "step":
                # Which step a sender is on goes to the other participants in either mode.
                await self._relay(room, peer, signal)
            elif mode == "relay" and self.gateway is not None:
                await self._to_gateway(room, peer, signal, record)
            else:
                await self._relay(room, peer, signal)
            if signal.type == "bye":
                await peer.ws.close()
                return

    async def _relay(self, room: Room, peer: LocalPeer, signal: Signal) -> None:
        """Hand a message to its recipients: this process's directly, the others' via the bus.

        The outgoing text is encoded once, by the sender's process, and published once per
        process that serves a recipient.
        """
        sender = peer.info.peer_id
        to = signal.to
        text = json.dumps({**signal.body, "from": sender}, separators=(",", ":"))
        if await self._deliver(room, sender, to, text) and to is not None:
            return
        envelope = {"kind": "signal", "origin": self.origin, "from": sender, "to": to, "text": text}
        nodes = self._nodes_of(room, sender, to)
        if nodes is None:
            # A recipient this process cannot place yet: every process in the room hears it.
            await self.bus.publish(room.channel, envelope)
            return
        for node in nodes:
            await self.bus.publish(room.inbox(node), envelope)

    def _nodes_of(self, room: Room, sender: str, to: str | None) -> set[str] | None:
        """The other processes serving the recipients; None when one of them is not known."""
        if to is not None:
            target = room.known.get(to)
            if target is None or not target.node:
                return None
            return {target.node} - {self.origin}
        nodes: set[str] = set()
        for info in room.known.values():
            if info.peer_id == sender or info.node == self.origin:
                continue
            if not info.node:
                return None
            nodes.add(info.node)
        return nodes

    async def _to_gateway(self, room: Room, peer: LocalPeer, signal: Signal, record: bool) -> None:
        assert self.gateway is not None
        try:
            if signal.type == "offer":
                answer = await self.gateway.answer(
                    room.id, peer.info.peer_id, signal.body["sdp"], record
                )
                await peer.send({"type": "answer", "sdp": answer, "from": "gateway"})
            elif signal.type == "candidate":
                await self.gateway.add_candidate(
                    room.id, peer.info.peer_id, signal.body["candidate"]
                )
            elif signal.type == "bye":
                await self.gateway.drop(room.id, peer.info.peer_id)
            else:
                await peer.send(_error("unexpected", "In relay mode the server answers offers."))
        except ValueError as exc:
            # aiortc refuses SDP it cannot parse or negotiate with a ValueError.
            await peer.send(_error("bad_sdp", str(exc)[:200] or "The SDP was refused."))

    def tell_slots(self, room_id: str, peer_id: str, slots: list[str | None]) -> None:
        """The gateway gave this participant's slots to others: tell their page whose media
        each slot carries (in the order of its transceivers of a kind), so it captions them."""
        room = self.rooms.get(room_id)
        peer = room.peers.get(peer_id) if room is not None else None
        if room is None or peer is None:
            return
        holders = [room.known.get(holder) if holder else None for holder in slots]
        message = {"type": "slots", "slots": [h.public() if h else None for h in holders]}
        task = asyncio.get_running_loop().create_task(peer.send(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    # --- the bus side --------------------------------------------------------------------------

    async def _listen(self, room: Room) -> None:
        try:
            async for message in room.subscription:
                await self._dispatch(room, message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call room %s lost its bus subscription", room.id)

    async def _dispatch(self, room: Room, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "signal":
            if message.get("origin") != self.origin:
                await self._deliver(room, message["from"], message.get("to"), message["text"])
        elif kind == "joined":
            info = PeerInfo(**message["peer"])
            room.known[info.peer_id] = info
            for peer in list(room.peers.values()):
                if peer.info.user_id != info.user_id:
                    polite = is_polite(peer.info.peer_id, [info.peer_id])
                    await peer.send({"type": "peer-joined", **info.public(), "polite": polite})
        elif kind == "left":
            await self._gone(room, message["peer_id"])
        elif kind == "chat":
            # A chat message stored by any process: every participant here sees it.
            for peer in list(room.peers.values()):
                await peer.send({"type": "chat", "message": message["message"]})
        elif kind == "replace":
            old = room.peers.get(message["peer_id"])
            if old is not None:
                await old.send(_error("replaced", "You joined this call from another connection."))
                await old.ws.close(code=CLOSE_REPLACED, message=b"replaced")

    async def _deliver(self, room: Room, sender: str, to: str | None, text: str) -> bool:
        """Queue ``text`` to this process's recipients; whether ``to`` was one of them."""
        found = False
        for peer in list(room.peers.values()):
            if peer.info.peer_id != sender and to in (None, peer.info.peer_id):
                await peer.send_text(text)
                found = found or peer.info.peer_id == to
        return found

    async def _gone(self, room: Room, peer_id: str) -> None:
        if room.known.pop(peer_id, None) is None:
            return
        for peer in list(room.peers.values()):
            await peer.send({"type": "peer-left", "peer_id": peer_id})

    async def _heartbeat(self, room: Room) -> None:
        interval = self.settings.call_heartbeat_seconds
        ttl = self.settings.call_presence_ttl_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.presence.refresh(room.id, [p.info for p in room.peers.values()], ttl)
                alive = {p.peer_id for p in await self.presence.peers(room.id)}
            except Exception:
                log.exception("presence refresh failed for call room %s", room.id)
                continue
            for peer_id in [p for p in room.known if p not in alive and p not in room.peers]:
                # Its process stopped refreshing it: it died or lost Redis.
                await self._gone(room, peer_id)
                if self.on_stale is not None:
                    # Shielded: the room may close (and cancel this loop) meanwhile.
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self.on_stale(peer_id))


_FULL = f"At most {MAX_PEOPLE} people take part in a call."


def _error(error: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "error": error, "detail": detail}


async def _stop(room: Room) -> None:
    for task in room.tasks:
        task.cancel()
    for task in room.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with contextlib.suppress(Exception):
        await room.subscription.close()
