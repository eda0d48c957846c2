"""The media gateway: the server's own aiortc peer, used in relay mode.

Each participant connects to the gateway, which sends them the other participant's audio
and video. By default frames are forwarded encoded (see :mod:`.media`): no decoding and no
re-encoding, so a call costs little more than its packets. ``call_forwarding = "decode"``
decodes and re-encodes like aiortc's MediaRelay; it is the baseline the benchmark compares to.

A relay-mode call lives in one process: both participants must reach the same process (the
load balancer routes a consultation's signaling by its id, see ``deploy/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.sdp import candidate_from_sdp

from ..config import Settings
from .media import EncodedTap, ForwardedTrack

log = logging.getLogger("teleconsult.calls.gateway")

KINDS = ("audio", "video")


@dataclass
class Leg:
    """One participant's connection to the gateway."""

    peer_id: str
    pc: RTCPeerConnection
    # What this participant sends us (an EncodedTap, or a decoded track via MediaRelay).
    sources: dict[str, Any] = field(default_factory=dict)
    # What we send this participant.
    outlets: dict[str, ForwardedTrack] = field(default_factory=dict)


@dataclass
class GatewayRoom:
    legs: dict[str, Leg] = field(default_factory=dict)
    relay: MediaRelay = field(default_factory=MediaRelay)


class MediaGateway:
    """All relay-mode calls of this process; opened and closed with the app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.encoded = settings.call_forwarding == "encoded"
        self.rooms: dict[str, GatewayRoom] = {}

    def _configuration(self) -> RTCConfiguration:
        servers = [RTCIceServer(urls=url) for url in self.settings.stun_urls]
        return RTCConfiguration(iceServers=servers)

    def _leg(self, room_id: str, peer_id: str) -> tuple[GatewayRoom, Leg]:
        room = self.rooms.setdefault(room_id, GatewayRoom())
        leg = room.legs.get(peer_id)
        if leg is not None and leg.pc.connectionState != "closed":
            return room, leg
        pc = RTCPeerConnection(self._configuration())
        leg = Leg(peer_id, pc)
        room.legs[peer_id] = leg

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            if self.encoded:
                leg.sources[track.kind] = EncodedTap.install(track.kind, receiver)
            else:
                leg.sources[track.kind] = room.relay.subscribe(track, buffered=False)
            self._link(room)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "failed":
                await self.drop(room_id, peer_id)

        return room, leg

    async def answer(self, room_id: str, peer_id: str, sdp: str) -> str:
        """Accept a participant's offer; the answer sends them the other side's media."""
        room, leg = self._leg(room_id, peer_id)
        pc = leg.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for transceiver in pc.getTransceivers():
            kind = transceiver.kind
            if kind not in KINDS or transceiver.sender.track is not None:
                continue
            outlet = leg.outlets.get(kind) or ForwardedTrack(kind)
            leg.outlets[kind] = outlet
            pc.addTrack(outlet)
            if self.encoded:
                # A receiver's picture-loss report goes to the original sender.
                transceiver.sender._send_keyframe = outlet.request_keyframe
        await pc.setLocalDescription(await pc.createAnswer())
        for transceiver in pc.getTransceivers():
            outlet = leg.outlets.get(transceiver.kind)
            codecs = getattr(transceiver, "_codecs", None)
            if outlet is not None and codecs:
                outlet.codec_name = codecs[0].name
        self._link(room)
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

    def _link(self, room: GatewayRoom) -> None:
        """Point every participant's outlets at the other participant's sources."""
        for leg in room.legs.values():
            for kind, outlet in leg.outlets.items():
                others = [o for o in room.legs.values() if o is not leg and kind in o.sources]
                if not others:
                    continue
                source = others[-1].sources[kind]
                if isinstance(source, EncodedTap):
                    outlet.attach(source)
                else:
                    outlet.attach_decoded(source)

    async def drop(self, room_id: str, peer_id: str) -> None:
        room = self.rooms.get(room_id)
        if room is None:
            return
        leg = room.legs.pop(peer_id, None)
        if leg is not None:
            for other in room.legs.values():
                for outlet in other.outlets.values():
                    for source in leg.sources.values():
                        outlet.detach(source)
            for outlet in leg.outlets.values():
                outlet.stop()
            with contextlib.suppress(Exception):
                await leg.pc.close()
        if not room.legs:
            self.rooms.pop(room_id, None)

    def stats(self) -> dict[str, int]:
        """Frames forwarded and dropped by this process's outlets (for /metrics and benches)."""
        forwarded = dropped = 0
        for room in self.rooms.values():
            for leg in room.legs.values():
                for outlet in leg.outlets.values():
                    forwarded += outlet.forwarded
                    dropped += outlet.dropped
        return {"forwarded": forwarded, "dropped": dropped}

    async def close(self) -> None:
        for room_id, room in list(self.rooms.items()):
            for peer_id in list(room.legs):
                await self.drop(room_id, peer_id)
        await asyncio.sleep(0)
