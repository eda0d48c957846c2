"""The servers' event loop choice."""

from __future__ import annotations

import asyncio

import pytest

from teleconsult.eventloop import loop_name, new_event_loop


def test_auto_runs_on_uvloop_where_it_is_installed() -> None:
    pytest.importorskip("uvloop")
    assert loop_name("auto") == "uvloop"
    loop = new_event_loop("auto")
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


def test_asyncio_is_asyncio_s_own_loop() -> None:
    loop = new_event_loop("asyncio")
    try:
        assert loop_name("asyncio") == "asyncio"
        assert isinstance(loop, asyncio.BaseEventLoop)
    finally:
        loop.close()


def test_an_unknown_loop_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event loop"):
        new_event_loop("twisted")
