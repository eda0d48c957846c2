"""Recording a participant's media as it arrives, without decoding it.

The gateway's encoded frames (VP8 video, Opus audio) are written into a Matroska file
unchanged, so recording costs disk writes rather than a codec.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

log = logging.getLogger("teleconsult.calls.recording")

_CODECS = {"VP8": "libvpx", "opus": "libopus"}


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 key frame header (RFC 6386 9.1)."""
    if len(data) < 10 or data[3:6] != b"\x9d\x01\x2a":
        return None
    return (
        int.from_bytes(data[6:8], "little") & 0x3FFF,
        int.from_bytes(data[8:10], "little") & 0x3FFF,
    )


class CallRecorder:
    """One participant's audio and video, muxed as received; fed by :class:`EncodedTap`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = 0
        self._container: Any = None
        self._streams: dict[str, Any] = {}
        self._origin: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._failed = False
        self._closed = False

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), "w", format="matroska")
        video = self._container.add_stream("libvpx", rate=30)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = Fraction(1, 90000)
        audio = self._container.add_stream("libopus", rate=48000)
        audio.time_base = Fraction(1, 48000)
        self._streams = {"video": video, "audio": audio}

    def feed(self, packet: av.Packet, key: bool, codec: Any) -> None:
        if self._failed or self._closed or codec.name not in _CODECS:
            return
        kind = "video" if codec.name == "VP8" else "audio"
        if self._container is None:
            size = vp8_size(bytes(packet)) if kind == "video" and key else None
            if size is None:
                return  # a file starts at a video key frame
            self._open(*size)
        try:
            self._write(kind, packet, key)
        except (av.FFmpegError, ValueError) as exc:
            log.warning("recording %s stopped: %s", self.path.name, exc)
            self._failed = True

    def _write(self, kind: str, packet: av.Packet, key: bool) -> None:
        pts = int(packet.pts or 0)
        origin = self._origin.setdefault(kind, pts)
        pts = max(pts - origin, self._last.get(kind, -1) + 1)
        self._last[kind] = pts
        out = av.Packet(bytes(packet))
        out.stream = self._streams[kind]
        out.time_base = packet.time_base
        out.pts = out.dts = pts
        out.is_keyframe = key
        self._container.mux(out)
        self.frames += kind == "video"

    def detach(self, source: Any) -> None:
        """The sender went away; the file stays open until :meth:`close`."""

    def close(self) -> Path | None:
        """Finish the file; None when nothing was recorded."""
        self._closed = True
        if self._container is None:
            return None
        self._container.close()
        self._container = None
        return self.path if self.frames else None
