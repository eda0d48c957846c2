"""The event loop of the server processes: uvloop where it is installed, else asyncio's own.

uvloop runs the same asyncio code with its I/O and scheduling in C (libuv); a signaling
message crosses four sockets and as many loop wake-ups, so that is where it helps most
(``bench/calls.py``). ``TELECONSULT_EVENT_LOOP=asyncio`` chooses the standard loop.
"""

from __future__ import annotations

import asyncio
from typing import Literal

LoopKind = Literal["auto", "uvloop", "asyncio"]


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def loop_name(kind: str = "auto") -> str:
    """The loop ``kind`` gives on this machine: ``uvloop`` or ``asyncio``."""
    if kind not in ("auto", "uvloop", "asyncio"):
        raise ValueError(f"unknown event loop {kind!r}: auto, uvloop or asyncio")
    if kind == "asyncio":
        return "asyncio"
    if not _has_uvloop():
        if kind == "uvloop":
            raise RuntimeError("TELECONSULT_EVENT_LOOP=uvloop, but uvloop is not installed")
        return "asyncio"
    return "uvloop"


def new_event_loop(kind: str = "auto") -> asyncio.AbstractEventLoop:
    """A new loop of ``kind`` (``auto``: uvloop when installed)."""
    if loop_name(kind) == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
