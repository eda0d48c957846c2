"""Encoded media plumbing shared by the gateway and the Python client.

aiortc hands every received frame to a decoder thread, and every sent frame to an encoder.
A forwarder needs neither: :class:`EncodedTap` takes a receiver's reassembled encoded frames
in place of its decoder queue, and :class:`ForwardedTrack` gives them, unchanged, to a sender
(aiortc's sender packetises an ``av.Packet`` without encoding it). Video restarts at a key
frame whenever a receiver joins or falls behind, and key frames are asked of the sender
with an RTCP picture-loss indication.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from fractions import Fraction
from typing import Any, Protocol

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.codecs import get_decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError

# A receiver that lags by this many frames is cut back to the next key frame.
OUTLET_QUEUE = 30
# At most one picture-loss indication upstream per this many seconds.
PLI_INTERVAL = 0.3


class FrameSink(Protocol):
    """Where an :class:`EncodedTap` delivers: a forwarded track or a recorder."""

    def feed(self, packet: av.Packet, key: bool, codec: Any) -> None: ...

    def detach(self, source: Any) -> None: ...


def is_keyframe(codec_name: str, data: bytes) -> bool:
    """Whether an encoded video frame can be decoded on its own."""
    if not data:
        return False
    if codec_name == "VP8":
        # RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame.
        return data[0] & 0x01 == 0
    if codec_name == "H264":
        # Annex B: an IDR slice (5) or a sequence parameter set (7) starts a decodable run.
        i = 0
        while (i := data.find(b"\x00\x00\x01", i)) != -1 and i + 3 < len(data):
            if data[i + 3] & 0x1F in (5, 7):
                return True
            i += 3
        return False
    return True


class EncodedTap:
    """Stands in for an RTCRtpReceiver's decoder queue and fans encoded frames out.

    The receiver calls :meth:`put` from the event loop with each reassembled frame; its
    decoder thread, which calls :meth:`get`, only ever sees the shutdown sentinel.
    """

    def __init__(self, kind: str, receiver: RTCRtpReceiver) -> None:
        self.kind = kind
        self.receiver = receiver
        self.codec_name: str | None = None
        self.outlets: set[FrameSink] = set()
        self.frames = 0
        self.keyframes = 0
        self.first_frame_at: float | None = None
        self._sentinel: queue.Queue[Any] = queue.Queue()
        self._last_pli = 0.0
        self._pending: set[asyncio.Future[None]] = set()

    @classmethod
    def install(cls, kind: str, receiver: RTCRtpReceiver) -> EncodedTap:
        """Attach to a receiver before it starts (i.e. from the ``track`` event)."""
        tap = cls(kind, receiver)
        # aiortc has no hook for encoded frames; its decoder queue is the seam.
        receiver._RTCRtpReceiver__decoder_queue = tap  # type: ignore[attr-defined]
        return tap

    # The queue.Queue methods the receiver and its decoder thread use.
    def put(self, item: Any) -> None:
        if item is None:
            self._sentinel.put(None)
            for outlet in list(self.outlets):
                outlet.detach(self)
            return
        codec, frame = item
        self.codec_name = codec.name
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = Fraction(1, codec.clockRate)
        key = self.kind == "audio" or is_keyframe(codec.name, frame.data)
        self.frames += 1
        self.keyframes += key
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic()
        for outlet in list(self.outlets):
            outlet.feed(packet, key, codec)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        return self._sentinel.get(block, timeout)

    def request_keyframe(self) -> None:
        """Ask the sender for a key frame (RTCP PLI), at most every PLI_INTERVAL."""
        if self.kind != "video":
            return
        now = time.monotonic()
        if now - self._last_pli < PLI_INTERVAL:
            return
        self._last_pli = now
        for source in self.receiver.getSynchronizationSources():
            task = asyncio.ensure_future(self.receiver._send_rtcp_pli(source.source))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)


class ForwardedTrack(MediaStreamTrack):
    """What a participant receives: another participant's frames, as they arrived.

    Frames stay encoded when the two sides negotiated the same codec; otherwise (or when
    ``decode`` is chosen) they are decoded here and the sender encodes them again.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.codec_name: str | None = None
        self.source: Any = None
        self.forwarded = 0
        self.dropped = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=OUTLET_QUEUE)
        self._waiting_key = kind == "video"
        self._decoder: Any = None
        self._decoder_codec: str | None = None
        self._decoded: list[Any] = []
        self._pump: asyncio.Task[None] | None = None

    # --- sources ---------------------------------------------------------------------------

    def attach(self, tap: EncodedTap) -> None:
        """Forward ``tap``'s frames from its next key frame on."""
        if self.source is tap:
            return
        self._unhook()
        self.source = tap
        tap.outlets.add(self)
        self._restart()

    def attach_decoded(self, track: MediaStreamTrack) -> None:
        """Forward decoded frames (aiortc's MediaRelay path); the sender re-encodes them."""
        if self.source is track:
            return
        self._unhook()
        self.source = track
        self._pump = asyncio.create_task(self._pump_decoded(track))

    def detach(self, source: Any) -> None:
        if self.source is source:
            self._unhook()

    def _unhook(self) -> None:
        if isinstance(self.source, EncodedTap):
            self.source.outlets.discard(self)
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        self.source = None

    def _restart(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._waiting_key = self.kind == "video"
        self.request_keyframe()

    def request_keyframe(self) -> None:
        """A receiver lost a picture or just joined: ask the original sender."""
        if isinstance(self.source, EncodedTap):
            self.source.request_keyframe()

    async def _pump_decoded(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if self._queue.full():
                    self.dropped += 1
                    continue
                self._queue.put_nowait(frame)

    # --- frames in ---------------------------------------------------------------------------

    def feed(self, packet: av.Packet, key: bool, codec: Any) -> None:
        if self._waiting_key:
            if not key:
                self.request_keyframe()
                return
            self._waiting_key = False
        if self._queue.full():
            # This receiver fell behind: drop its backlog and resume at a key frame.
            self.dropped += self._queue.qsize() + 1
            self._restart()
            return
        self._queue.put_nowait((packet, codec))

    # --- frames out ----------------------------------------------------------------------------

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        while True:
            if self._decoded:
                self.forwarded += 1
                return self._decoded.pop(0)
            item = await self._queue.get()
            if not isinstance(item, tuple):
                self.forwarded += 1
                return item
            packet, codec = item
            if self.codec_name is None or codec.name == self.codec_name:
                self.forwarded += 1
                return packet
            # Different codecs on the two sides: decode here, the sender encodes.
            self._decoded = await asyncio.get_running_loop().run_in_executor(
                None, self._decode, packet, codec
            )

    def _decode(self, packet: av.Packet, codec: Any) -> list[Any]:
        if self._decoder is None or self._decoder_codec != codec.name:
            self._decoder = get_decoder(codec)
            self._decoder_codec = codec.name
        try:
            return list(self._decoder.decode(JitterFrame(bytes(packet), int(packet.pts or 0))))
        except av.FFmpegError:
            return []

    def stop(self) -> None:
        self._unhook()
        super().stop()
