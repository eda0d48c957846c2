"""A call participant in Python: the ``teleconsult call`` command, our tests and benches.

It logs in over HTTP, asks for a call ticket, and joins with aiortc. In peer-to-peer mode
it negotiates with the other participant (perfect negotiation: the newcomer offers, the
polite side yields on glare); in relay mode it offers to the server's gateway.

It takes one counterpart: in a call of three (the patient invited) it stays with the first
one it connected to, and leaves the third's offers unanswered; through the gateway (one
slot) it gets the most recent of the others. The browser page connects to everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import aiohttp
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.contrib.media import MediaBlackhole, MediaPlayer, MediaRecorder
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from .media import EncodedTap

log = logging.getLogger("teleconsult.calls.client")

VIDEO_CLOCK = 90000


class TestPatternTrack(VideoStreamTrack):
    """Moving grey bars at 30 frames a second: a camera for machines without one."""

    def __init__(self, width: int = 640, height: int = 480) -> None:
        super().__init__()
        self.width, self.height = width, height
        self._frames = [self._make(i) for i in range(30)]
        self._n = 0

    def _make(self, i: int) -> av.VideoFrame:
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        w, h = self.width, self.height
        luma = bytes(((x + i * 8) // 40 % 2) * 160 + 40 for x in range(w)) * h
        frame.planes[0].update(luma)
        frame.planes[1].update(bytes([128]) * (w // 2 * h // 2))
        frame.planes[2].update(bytes([128 + i]) * (w // 2 * h // 2))
        return frame

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self._frames[self._n % len(self._frames)]
        self._n += 1
        frame.pts = pts
        frame.time_base = time_base
        return frame


class EncodedLoopTrack(MediaStreamTrack):
    """Pre-encoded VP8 frames played in a loop at 30 fps, for load tests without encoding.

    A key frame request restarts the loop at its key frame.
    """

    kind = "video"

    def __init__(self, packets: list[bytes], fps: int = 30) -> None:
        super().__init__()
        self.packets = packets
        self.fps = fps
        self.sent = 0
        self._i = 0
        self._start: float | None = None

    def restart(self) -> None:
        self._i = 0

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.sent / self.fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        packet = av.Packet(self.packets[self._i % len(self.packets)])
        packet.pts = self.sent * VIDEO_CLOCK // self.fps
        packet.time_base = Fraction(1, VIDEO_CLOCK)
        self._i += 1
        self.sent += 1
        return packet


def encode_vp8_loop(width: int = 640, height: int = 480, frames: int = 60) -> list[bytes]:
    """A key frame followed by inter frames of the test pattern, encoded once."""
    pattern = TestPatternTrack(width, height)
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuv420p"
    codec.bit_rate = 800_000
    codec.time_base = Fraction(1, 30)
    codec.gop_size = 100000
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out: list[bytes] = []
    for i in range(frames):
        frame = pattern._frames[i % len(pattern._frames)]
        frame.pts = i
        frame.time_base = Fraction(1, 30)
        out += [bytes(p) for p in codec.encode(frame)]
    out += [bytes(p) for p in codec.encode(None)]
    return out


class CallClient:
    """One participant: signaling websocket, peer connection and frame counters."""

    def __init__(
        self,
        server: str,
        consultation_id: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        video: MediaStreamTrack | None = None,
        audio: MediaStreamTrack | None = None,
        record: str | None = None,
        decode: bool = True,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.consultation_id = consultation_id
        self.token = token
        self.username, self.password = username, password
        self.video = video
        self.audio = audio
        self.record_path = record
        self.decode = decode
        self.on_event = on_event or (lambda text: log.info("%s", text))
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.ice_servers: list[RTCIceServer] = []
        self.mode = "p2p"
        self.peer_id: str | None = None
        self.polite = True
        self.remote: str | None = None
        self.remote_role: str | None = None
        self.making_offer = False
        self.frames: dict[str, int] = {"audio": 0, "video": 0}
        self.joined_at: float | None = None
        self.first_video_at: float | None = None
        self.states: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self.got_video = asyncio.Event()
        self._recorder: MediaRecorder | MediaBlackhole | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._taps: list[EncodedTap] = []
        self._reader: asyncio.Task[None] | None = None

    # --- joining ---------------------------------------------------------------------------

    async def login(self) -> None:
        assert self.http is not None
        async with self.http.post(
            f"{self.server}/api/v1/auth/login",
            json={"username": self.username, "password": self.password},
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"login failed: {resp.status} {body.get('detail')}")
            self.token = body["token"]

    async def ticket(self) -> dict[str, Any]:
        """``GET /consultations/{id}/call``: ICE servers, the one-time URL and the mode."""
        assert self.http is not None
        async with self.http.get(
            f"{self.server}/api/v1/consultations/{self.consultation_id}/call",
            headers={"Authorization": f"Bearer {self.token}"},
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"cannot join: {resp.status} {body.get('detail')}")
            return dict(body)

    async def join(self) -> None:
        """Connect signaling; media follows as soon as the other side is there."""
        self.http = aiohttp.ClientSession()
        if self.token is None:
            await self.login()
        self.joined_at = time.monotonic()
        call = await self.ticket()
        self.mode = call["mode"]
        self.ice_servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in call["ice_servers"]
        ]
        self.ws = await self.http.ws_connect(call["ws_url"], heartbeat=20)
        welcome = await self.ws.receive_json(timeout=10)
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"unexpected first message: {welcome}")
        self.peer_id = welcome["peer_id"]
        self.polite = bool(welcome["polite"])
        self.on_event(f"joined as {self.peer_id} ({welcome['role']}), mode {self.mode}")
        self._reader = asyncio.create_task(self._read())
        if self.mode == "relay":
            await self._offer(None)
        elif welcome["peers"]:
            first = welcome["peers"][0]
            self.remote, self.remote_role = first["peer_id"], first["role"]
            await self._offer(self.remote)

    async def leave(self) -> None:
        with contextlib.suppress(Exception):
            if self.ws is not None and not self.ws.closed:
                await self.ws.send_json({"type": "bye"})
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._close_pc()
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()

    # --- peer connection ---------------------------------------------------------------------

    def _new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self.ice_servers))
        video = self.video or TestPatternTrack()
        self.video = video
        pc.addTrack(video)
        if self.audio is not None:
            pc.addTrack(self.audio)
        else:
            pc.addTransceiver("audio", direction="recvonly")
        if isinstance(video, EncodedLoopTrack):
            for t in pc.getTransceivers():
                if t.sender.track is video:
                    t.sender._send_keyframe = video.restart  # type: ignore[method-assign]
        if self.record_path:
            self._recorder = MediaRecorder(self.record_path)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            self.states.append(pc.connectionState)
            self.on_event(f"connection {pc.connectionState}")
            if pc.connectionState == "connected":
                self.connected.set()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if self.decode:
                self._spawn(self._consume(track))
                return
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            tap = EncodedTap.install(track.kind, receiver)
            self._taps.append(tap)
            self._spawn(self._count_encoded(tap))

        self.pc = pc
        return pc

    async def _close_pc(self) -> None:
        if self.pc is not None:
            pc, self.pc = self.pc, None
            await pc.close()
        if self._recorder is not None:
            await self._recorder.stop()
            self._recorder = None
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, track: MediaStreamTrack) -> None:
        if isinstance(self._recorder, MediaRecorder):
            self._recorder.addTrack(track)
            await self._recorder.start()
            return
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self._count(track.kind)

    async def _count_encoded(self, tap: EncodedTap) -> None:
        seen = 0
        while True:
            await asyncio.sleep(0.02)
            if tap.frames > seen:
                for _ in range(tap.frames - seen):
                    self._count(tap.kind)
                seen = tap.frames

    def _count(self, kind: str) -> None:
        self.frames[kind] += 1
        if kind == "video" and self.first_video_at is None:
            self.first_video_at = time.monotonic()
            self.got_video.set()

    async def _offer(self, to: str | None) -> None:
        pc = self.pc or self._new_pc()
        self.making_offer = True
        try:
            await pc.setLocalDescription(await pc.createOffer())
        finally:
            self.making_offer = False
        await self._send({"type": "offer", "sdp": pc.localDescription.sdp, "to": to})

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_json({k: v for k, v in message.items() if v is not None})

    # --- signaling -----------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            message = msg.json()
            self.events.append(message)
            try:
                await self._handle(message)
            except Exception as exc:
                log.warning("could not handle %s: %s", message.get("type"), exc)
        self.on_event("signaling closed")

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "error":
            self.errors.append(message)
            self.on_event(f"server error: {message.get('error')}: {message.get('detail')}")
        elif kind == "peer-joined" and self.mode == "p2p":
            fresh = self.remote is None or message["role"] == self.remote_role
            if fresh and message["peer_id"] != self.remote:
                # A counterpart (or ours reconnecting): start afresh, they offer.
                await self._close_pc()
                self.remote, self.remote_role = message["peer_id"], message["role"]
        elif kind == "peer-left" and self.mode == "p2p":
            if message["peer_id"] == self.remote:
                await self._close_pc()
                self.remote = None
        elif kind == "offer":
            await self._on_offer(message)
        elif kind == "answer" and self.pc is not None:
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
        elif kind == "candidate" and self.pc is not None and message.get("candidate"):
            await self._add_candidate(message["candidate"])

    async def _on_offer(self, message: dict[str, Any]) -> None:
        sender = message.get("from")
        if sender is not None and self.mode == "p2p":
            if self.remote is not None and sender != self.remote:
                self.on_event("another participant's offer left unanswered (one counterpart)")
                return
            self.remote = sender
        glare = self.making_offer or (self.pc is not None and self.pc.signalingState != "stable")
        if glare and not self.polite:
            return
        if glare:
            # aiortc cannot roll back a local offer: the polite side starts a fresh connection.
            await self._close_pc()
        pc = self.pc or self._new_pc()
        await pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self._send({"type": "answer", "sdp": pc.localDescription.sdp, "to": sender})

    async def _add_candidate(self, candidate: dict[str, Any]) -> None:
        assert self.pc is not None
        text = str(candidate.get("candidate") or "")
        if not text:
            return
        parsed = candidate_from_sdp(text.removeprefix("candidate:"))
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await self.pc.addIceCandidate(parsed)


def media_from_file(path: str) -> tuple[MediaStreamTrack | None, MediaStreamTrack | None]:
    """Video and audio tracks played from a file (looped)."""
    player = MediaPlayer(path, loop=True)
    return player.video, player.audio
