"""Helpers for call tests: a consultation inside its join window, loopback-only ICE."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aioice.ice
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from teleconsult.calls.client import CallClient

from .factories import World, availability, book, world

CALL_TIMEOUT = 30


def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiortc peers in this process offer only 127.0.0.1 host candidates."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def booked_call(
    client: Any, engine: AsyncEngine, now: datetime, *, minutes_ahead: int = 5
) -> tuple[World, str]:
    """A world and a video consultation starting ``minutes_ahead`` from ``now``."""
    w = await world(client, engine)
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=minutes_ahead)
    await availability(w.specialist, start, hours=1)
    status, page = await w.gp.get("/slots", specialty="cardiology")
    assert status == 200 and page["items"], page
    booked = await book(w, slot_id=page["items"][0]["id"], reason="palpitations")
    return w, str(booked["id"])


async def until(check: Callable[[], bool], within: float = CALL_TIMEOUT) -> None:
    """Wait (bounded) until ``check()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the call")
        await asyncio.sleep(0.05)


async def until_async(check: Callable[[], Awaitable[bool]], within: float = CALL_TIMEOUT) -> None:
    """Wait (bounded) until the coroutine ``check()`` returns true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the call")
        await asyncio.sleep(0.05)


async def exchange_frames(a: CallClient, b: CallClient, frames: int = 5) -> None:
    """Both sides join and each receives ``frames`` video frames from the other."""
    await a.join()
    await b.join()
    await until(lambda: a.frames["video"] >= frames and b.frames["video"] >= frames)


async def leave_all(*clients: CallClient) -> None:
    for c in clients:
        await c.leave()


Cleanup = Callable[[], Awaitable[None]]
