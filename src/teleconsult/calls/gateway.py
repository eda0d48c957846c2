"""The media gateway: the server's own aiortc peer, used in relay mode.

Each participant connects to the gateway, which sends them the other participants' audio
and video: one slot (an audio and a video transceiver) per other participant the
participant's offer has room for. The Python client offers one slot; the browser offers
three, for a call of four (GP, specialist, an invited specialist or the invited patient). A
slot keeps its participant
while they stay; the most recent arrivals fill the slots. Whenever a participant's slots
change, ``on_slots`` hears whose media each now carries, so their page can caption it.

By default frames are forwarded encoded (see :mod:`.media`): no decoding and no re-encoding,
so a call costs little more than its packets. ``call_forwarding = "decode"`` decodes and
re-encodes like aiortc's MediaRelay; it is the baseline the benchmark compares to.

A relay-mode call lives in one process: all participants must reach the same process (the
load balancer routes a consultation's signaling by its id, see ``deploy/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.sdp import candidate_from_sdp

from ..config import Settings
from .media import EncodedTap, ForwardedTrack
from .recording import CallRecorder

log = logging.getLogger("teleconsult.calls.gateway")

KINDS = ("audio", "video")

RecordingHook = Callable[[str, Path], Awaitable[None]]
# (room, participant, whose media each of their slots carries: peer ids, None for nobody)
SlotsHook = Callable[[str, str, list[str | None]], None]


@dataclass
class Leg:
    """One participant's connection to the gateway."""

    peer_id: str
    pc: RTCPeerConnection
    # What this participant sends us (an EncodedTap, or a decoded track via MediaRelay).
    sources: dict[str, Any] = field(default_factory=dict)
    # What we send this participant: per kind, one track per slot (in transceiver order).
    outlets: dict[str, list[ForwardedTrack]] = field(default_factory=dict)
    # Whose media each slot carries (peer ids; None: nobody yet).
    slots: list[str | None] = field(default_factory=list)
    recorder: CallRecorder | None = None


@dataclass
class GatewayRoom:
    legs: dict[str, Leg] = field(default_factory=dict)
    relay: MediaRelay = field(default_factory=MediaRelay)


class MediaGateway:
    """All relay-mode calls of this process; opened and closed with the app."""

    def __init__(
        self,
        settings: Settings,
        on_recording: RecordingHook | None = None,
        on_slots: SlotsHook | None = None,
    ) -> None:
        self.settings = settings
        self.encoded = settings.call_forwarding == "encoded"
        self.rooms: dict[str, GatewayRoom] = {}
        self.on_recording = on_recording
        self.on_slots = on_slots

    def _configuration(self) -> RTCConfiguration:
        servers = [RTCIceServer(urls=url) for url in self.settings.stun_urls]
        # Every transceiver on the first one's transport. Under aiortc's default (balanced)
        # policy a second transceiver of a kind (a second slot) keeps the transport that
        # BUNDLE then discards, and its sender never starts. Browsers and aiortc both bundle.
        return RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)

    def _leg(self, room_id: str, peer_id: str, record: bool) -> tuple[GatewayRoom, Leg]:
        room = self.rooms.setdefault(room_id, GatewayRoom())
        leg = room.legs.get(peer_id)
        if leg is not None and leg.pc.connectionState != "closed":
            return room, leg
        pc = RTCPeerConnection(self._configuration())
        leg = Leg(peer_id, pc)
        if record:
            path = self.settings.data_dir / "recordings" / room_id / f"{peer_id}.mkv"
            leg.recorder = CallRecorder(path)
        room.legs[peer_id] = leg

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            if self.encoded or leg.recorder is not None:
                tap = EncodedTap.install(track.kind, receiver)
                if leg.recorder is not None:
                    tap.outlets.add(leg.recorder)
                leg.sources[track.kind] = tap
            else:
                leg.sources[track.kind] = room.relay.subscribe(track, buffered=False)
            self._link(room_id, room)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "failed":
                await self.drop(room_id, peer_id)

        return room, leg

    async def answer(self, room_id: str, peer_id: str, sdp: str, record: bool = False) -> str:
        """Accept a participant's offer; the answer sends them the others' media."""
        room, leg = self._leg(room_id, peer_id, record)
        pc = leg.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for transceiver in pc.getTransceivers():
            kind = transceiver.kind
            if kind not in KINDS or transceiver.sender.track is not None:
                continue
            outlet = ForwardedTrack(kind)
            leg.outlets.setdefault(kind, []).append(outlet)
            # addTrack takes the first free transceiver of the kind: this one, as the ones
            # before it already carry a track.
            pc.addTrack(outlet)
            if self.encoded:
                # A receiver's picture-loss report goes to the original sender.
                transceiver.sender._send_keyframe = outlet.request_keyframe
        await pc.setLocalDescription(await pc.createAnswer())
        for transceiver in pc.getTransceivers():
            track = transceiver.sender.track
            codecs = getattr(transceiver, "_codecs", None)
            if isinstance(track, ForwardedTrack) and codecs:
                track.codec_name = codecs[0].name
        self._link(room_id, room)
        return pc.localDescription.sdp

    async def add_candidate(
        self, room_id: str, peer_id: str, candidate: dict[str, Any] | None
    ) -> None:
        """A trickled candidate from a browser; aiortc sends its own inside the SDP."""
        room = self.rooms.get(room_id)
        leg = room.legs.get(peer_id) if room else None
        if leg is None or candidate is None:
            return
        text = str(candidate.get("candidate") or "")
        if not text:
            return
        parsed = candidate_from_sdp(text.removeprefix("candidate:"))
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await leg.pc.addIceCandidate(parsed)

    def _link(self, room_id: str, room: GatewayRoom) -> None:
        """Give every participant's slots to the others: who keeps a slot stays in it, and
        the most recent arrivals take the free ones; a participant whose slots changed is
        told (``on_slots``)."""
        for leg in room.legs.values():
            count = max((len(v) for v in leg.outlets.values()), default=0)
            others = [o.peer_id for o in room.legs.values() if o is not leg and o.sources]
            wanted = others[-count:] if count else []
            slots: list[str | None] = [p if p in wanted else None for p in leg.slots[:count]]
            slots += [None] * (count - len(slots))
            for arrival in wanted:
                if arrival not in slots:
                    slots[slots.index(None)] = arrival
            if slots != leg.slots and self.on_slots is not None:
                self.on_slots(room_id, leg.peer_id, slots)
            leg.slots = slots
            for kind, outlets in leg.outlets.items():
                for outlet, holder in zip(outlets, slots, strict=False):
                    other = room.legs.get(holder) if holder is not None else None
                    source = other.sources.get(kind) if other is not None else None
                    if source is None:
                        outlet.detach(outlet.source)
                    elif isinstance(source, EncodedTap):
                        outlet.attach(source)
                    else:
                        outlet.attach_decoded(source)

    async def drop(self, room_id: str, peer_id: str) -> None:
        """A participant left: unhook their media, finish their recording, close the peer."""
        room = self.rooms.get(room_id)
        if room is None:
            return
        leg = room.legs.pop(peer_id, None)
        if not room.legs:
            self.rooms.pop(room_id, None)
        if leg is None:
            return
        for other in room.legs.values():
            for outlets in other.outlets.values():
                for outlet in outlets:
                    for source in leg.sources.values():
                        outlet.detach(source)
        # Their slots go to whoever else is there.
        self._link(room_id, room)
        recorded = None
        if leg.recorder is not None:
            for source in leg.sources.values():
                if isinstance(source, EncodedTap):
                    source.outlets.discard(leg.recorder)
            recorded = leg.recorder.close()
        # Shielded: the websocket's handler may be cancelled while the peer shuts down.
        await asyncio.shield(self._finish(room_id, leg, recorded))

    async def _finish(self, room_id: str, leg: Leg, recorded: Path | None) -> None:
        for outlets in leg.outlets.values():
            for outlet in outlets:
                outlet.stop()
        if recorded is not None and self.on_recording is not None:
            await self.on_recording(room_id, recorded)
        with contextlib.suppress(Exception):
            await leg.pc.close()

    def stats(self) -> dict[str, int]:
        """Frames forwarded and dropped by this process's outlets (for /metrics and benches)."""
        forwarded = dropped = 0
        for room in self.rooms.values():
            for leg in room.legs.values():
                for outlets in leg.outlets.values():
                    for outlet in outlets:
                        forwarded += outlet.forwarded
                        dropped += outlet.dropped
        return {"forwarded": forwarded, "dropped": dropped}

    async def close(self) -> None:
        for room_id, room in list(self.rooms.items()):
            for peer_id in list(room.legs):
                await self.drop(room_id, peer_id)
        await asyncio.sleep(0)
