from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleconsult.calls.media import is_keyframe
from teleconsult.calls.presence import MemoryPresence, PeerInfo
from teleconsult.calls.rules import (
    MAX_SDP_BYTES,
    BadSignal,
    FloodGate,
    call_is_open,
    ice_servers,
    is_polite,
    parse_signal,
    turn_credentials,
)

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=20)


@pytest.mark.parametrize(
    ("status", "at", "open_"),
    [
        ("scheduled", START - timedelta(minutes=16), False),
        ("scheduled", START - timedelta(minutes=15), True),
        ("scheduled", END + timedelta(minutes=60), True),
        ("scheduled", END + timedelta(minutes=61), False),
        ("in_progress", END + timedelta(days=1), True),
        ("completed", START, False),
        ("cancelled", START, False),
        ("requested", START, False),
    ],
)
def test_join_window(status: str, at: datetime, open_: bool) -> None:
    assert call_is_open(status, START, END, at) is open_


def test_turn_credentials_follow_the_rest_api_convention() -> None:
    username, password = turn_credentials("s3cret", "user-1", START, 3600)
    assert username == f"{int(START.timestamp()) + 3600}:user-1"
    expected = hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(password) == expected


def test_ice_servers_omit_turn_without_a_secret() -> None:
    assert ice_servers(["stun:a"], ["turn:b"], None, "u", START, 60) == [{"urls": ["stun:a"]}]
    servers = ice_servers([], ["turn:b"], "x", "u", START, 60)
    assert servers[0]["urls"] == ["turn:b"] and set(servers[0]) == {
        "urls",
        "username",
        "credential",
    }


@given(
    st.lists(
        st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
        min_size=2,
        max_size=2,
        unique=True,
    )
)
def test_two_peers_that_see_each_other_disagree_on_politeness(ids: list[str]) -> None:
    a, b = ids
    assert is_polite(a, [b]) != is_polite(b, [a])
    assert is_polite(a, [])


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("{", "malformed"),
        ("null", "malformed"),
        ('"offer"', "malformed"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "answer"}', "malformed"),
        ('{"type": "offer", "sdp": "x", "to": 7}', "malformed"),
        ('{"type": "candidate", "candidate": [1]}', "malformed"),
        (json.dumps({"type": "answer", "sdp": "é" * (MAX_SDP_BYTES // 2 + 1)}), "too_large"),
        ("[" * 100000, "too_large"),
    ],
)
def test_bad_signals_are_named(raw: str, error: str) -> None:
    with pytest.raises(BadSignal) as exc:
        parse_signal(raw)
    assert exc.value.error == error


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    with pytest.raises(BadSignal):
        parse_signal("[" * 30000 + "]" * 30000)


def test_good_signals_are_cleaned() -> None:
    signal = parse_signal('{"type": "offer", "sdp": "v=0", "extra": 1, "to": "ab"}')
    assert signal.body == {"type": "offer", "sdp": "v=0"} and signal.to == "ab"
    assert parse_signal('{"type": "candidate", "candidate": null}').body["candidate"] is None
    assert parse_signal('{"type": "bye"}').body == {"type": "bye"}


def test_flood_gate_allows_the_rate_and_refills() -> None:
    gate = FloodGate(50, now=0.0)
    assert all(gate.allow(0.0) for _ in range(50))
    assert not gate.allow(0.0)
    assert gate.allow(0.1)


def test_vp8_and_h264_key_frames() -> None:
    assert is_keyframe("VP8", bytes([0x10, 0, 0]))
    assert not is_keyframe("VP8", bytes([0x11, 0, 0]))
    assert is_keyframe("H264", b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x01\x65\x88")
    assert not is_keyframe("H264", b"\x00\x00\x00\x01\x41\x9a")


async def test_memory_presence_expires_silent_peers() -> None:
    presence = MemoryPresence()
    gp = PeerInfo("a", "gp", "u1")
    specialist = PeerInfo("b", "specialist", "u2")
    await presence.add("room", gp, ttl=60)
    await presence.add("room", specialist, ttl=-1)
    assert await presence.peers("room") == [gp]
    await presence.remove("room", "a")
    assert await presence.peers("room") == []
