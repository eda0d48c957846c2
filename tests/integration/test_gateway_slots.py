"""The relay gateway with three participants: a slot for each of the others, and each
participant told whose media its slots carry whenever that changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)

from teleconsult.calls import client as call_client
from teleconsult.calls.gateway import MediaGateway
from teleconsult.calls.media import EncodedTap
from teleconsult.config import Settings

from ..callkit import loopback_only, until

pytestmark = [pytest.mark.media, pytest.mark.slow, pytest.mark.timeout(60)]


class Participant:
    """An aiortc peer that sends a test pattern and counts the encoded frames of each slot."""

    def __init__(self, slots: int) -> None:
        # One transport for everything, as browsers bundle (see the gateway).
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.pc = RTCPeerConnection(config)
        self.pc.addTrack(call_client.TestPatternTrack(160, 120))
        for _ in range(slots - 1):
            self.pc.addTransceiver("video", direction="recvonly")
        self.taps: list[EncodedTap] = []

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(
                t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track
            )
            self.taps.append(EncodedTap.install(track.kind, receiver))

    def frames(self) -> list[int]:
        return [tap.frames for tap in self.taps]

    async def join(self, gateway: MediaGateway, peer_id: str) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await gateway.answer("room", peer_id, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))


async def test_three_participants_each_get_both_others_and_slots_follow_departures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback_only(monkeypatch)
    told: dict[str, list[str | None]] = {}

    def on_slots(room: str, peer_id: str, slots: list[str | None]) -> None:
        assert room == "room"
        told[peer_id] = slots

    gateway = MediaGateway(Settings(env="test", stun_urls=[], data_dir=tmp_path), on_slots=on_slots)
    gp, specialist, patient = Participant(2), Participant(2), Participant(1)
    everyone = (gp, specialist, patient)
    try:
        for peer_id, who in zip(("gp", "specialist", "patient"), everyone, strict=True):
            await who.join(gateway, peer_id)

        def all_slots_flow(minimum: int) -> bool:
            return all(
                len(w.frames()) == n and min(w.frames()) >= minimum
                for w, n in ((gp, 2), (specialist, 2), (patient, 1))
            )

        await until(lambda: all_slots_flow(10))
        legs = gateway.rooms["room"].legs
        assert legs["gp"].slots == ["specialist", "patient"]
        assert legs["specialist"].slots == ["gp", "patient"]
        # One slot: the most recent of the others.
        assert legs["patient"].slots == ["specialist"]
        assert told == {p: leg.slots for p, leg in legs.items()}

        # The specialist leaves: the patient's slot goes to the GP; the GP keeps the patient
        # where it was.
        await gateway.drop("room", "specialist")
        assert legs["gp"].slots == [None, "patient"]
        assert legs["patient"].slots == ["gp"]
        # Those whose slots changed heard of it; the one who left is told nothing more.
        assert told == {
            **{p: leg.slots for p, leg in legs.items()},
            "specialist": told["specialist"],
        }
        before = patient.frames()[0]
        await until(lambda: patient.frames()[0] >= before + 10)
        before = gp.frames()[1]
        await until(lambda: gp.frames()[1] >= before + 10)
    finally:
        await gateway.close()
        for who in everyone:
            await who.pc.close()
        await asyncio.sleep(0)
