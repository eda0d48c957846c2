"""Calls through the real server: tickets, the join window, signaling, media in both modes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from sqlalchemy import select

from teleconsult.appkeys import BUS
from teleconsult.calls.client import CallClient
from teleconsult.calls.models import CallParticipation
from teleconsult.calls.rules import MAX_SDP_BYTES
from teleconsult.calls.signaling import CLOSE_REPLACED
from teleconsult.clock import FakeClock
from teleconsult.config import Settings

from ..callkit import (
    booked_call,
    exchange_frames,
    leave_all,
    loopback_only,
    until,
    until_async,
)
from ..conftest import Database
from ..factories import user

pytestmark = [pytest.mark.media, pytest.mark.timeout(60)]


def base_url(client: Any) -> str:
    return str(client.make_url("")).rstrip("/")


def _last_slots(me: CallClient) -> list[tuple[str, str] | None]:
    """Whose media (user, role) the gateway last said each of ``me``'s slots carries."""
    told = [e["slots"] for e in me.events if e.get("type") == "slots"]
    return [(h["user_id"], h["role"]) if h else None for h in (told[-1] if told else [])]


@pytest.mark.parametrize("mode", ["p2p", "relay"])
async def test_two_aiortc_clients_exchange_video(
    client: Any, database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    if mode == "relay":
        status, options = await w.gp.post(f"/consultations/{cid}/call/options", {"mode": "relay"})
        assert status == 200 and options["mode"] == "relay", options
    gp = CallClient(base_url(client), cid, token=w.gp.token)
    specialist = CallClient(base_url(client), cid, token=w.specialist.token)
    try:
        await exchange_frames(gp, specialist)
        assert gp.mode == specialist.mode == mode
        assert "connected" in gp.states and "connected" in specialist.states
        if mode == "relay":
            # The gateway tells each whose media its one slot carries, so pages caption it.
            await until(lambda: _last_slots(gp) == [(w.specialist.id, "specialist")])
            await until(lambda: _last_slots(specialist) == [(w.gp.id, "gp")])
    finally:
        await leave_all(gp, specialist)

    status, consultation = await w.gp.get(f"/consultations/{cid}")
    assert consultation["status"] == "in_progress"
    stays: list[Any] = []

    async def all_left() -> bool:
        nonlocal stays
        async with database.engine.connect() as conn:
            stays = list((await conn.execute(select(CallParticipation))).all())
        return bool(stays) and all(s.left_at is not None for s in stays)

    await until_async(all_left)
    assert {s.role for s in stays} == {"gp", "specialist"}
    assert all(s.left_at >= s.joined_at for s in stays)


async def test_ticket_carries_turn_credentials_and_a_one_time_url(
    client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    # Only this test names a TURN server: media tests would wait for it to answer.
    settings.turn_urls = ["turn:127.0.0.1:3478?transport=udp"]
    settings.turn_secret = "turn-test-secret"
    w, cid = await booked_call(client, database.engine, clock.now())
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200, call
    assert call["mode"] == "p2p"
    turn = call["ice_servers"][-1]
    expiry, user_id = turn["username"].split(":")
    assert user_id == w.gp.id
    assert int(expiry) == int(clock.now().timestamp()) + 3600
    assert "ticket=" in call["ws_url"] and w.gp.token not in call["ws_url"]

    async with client.session.ws_connect(call["ws_url"]) as ws:
        welcome = await ws.receive_json(timeout=5)
        assert welcome["type"] == "welcome" and welcome["role"] == "gp"
        assert welcome["peers"] == [] and welcome["polite"] is True
    with pytest.raises(aiohttp.WSServerHandshakeError) as used:
        await client.session.ws_connect(call["ws_url"])
    assert used.value.status == 401


async def test_outsiders_expired_tickets_and_closed_windows_are_refused(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now(), minutes_ahead=60)
    # Another clinic's GP cannot see the consultation; an admin sees it but is no participant.
    other_gp = await user(w.admin, "gp", facility_id=w.clinic)
    status, body = await other_gp.get(f"/consultations/{cid}/call")
    assert status == 404, body
    status, body = await w.admin.get(f"/consultations/{cid}/call")
    assert status == 403, body
    # An hour early: the call is not open yet.
    status, body = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 403 and body["error"] == "CallNotOpen", body

    clock.advance(minutes=50)
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200, call
    clock.advance(seconds=61)
    with pytest.raises(aiohttp.WSServerHandshakeError) as expired:
        await client.session.ws_connect(call["ws_url"])
    assert expired.value.status == 401
    # A ticket is valid only for its own consultation, and a made-up one for none.
    with pytest.raises(aiohttp.WSServerHandshakeError) as forged:
        await client.ws_connect(f"/api/v1/consultations/{cid}/signal?ticket=not-a-ticket")
    assert forged.value.status == 401

    # Past the slot's end (twenty minutes) and the hour of grace, the call is closed.
    clock.advance(minutes=10 + 20 + 60 + 5)
    status, body = await w.specialist.get(f"/consultations/{cid}/call")
    assert status == 403, body


async def test_a_refused_ticket_is_spent(client: Any, database: Database, clock: FakeClock) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200, call
    ticket = call["ws_url"].split("ticket=", 1)[1]
    # Tried on another call's websocket: refused, and spent with it.
    other = uuid.uuid4()
    with pytest.raises(aiohttp.WSServerHandshakeError) as wrong_call:
        await client.ws_connect(f"/api/v1/consultations/{other}/signal?ticket={ticket}")
    assert wrong_call.value.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as again:
        await client.session.ws_connect(call["ws_url"])
    assert again.value.status == 401
    # A ticket whose holder was disabled is refused, and stays so once they are enabled.
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200, call
    status, _ = await w.admin.post(f"/users/{w.gp.id}/status", {"is_active": False})
    assert status == 200
    with pytest.raises(aiohttp.WSServerHandshakeError) as disabled:
        await client.session.ws_connect(call["ws_url"])
    assert disabled.value.status == 401
    status, _ = await w.admin.post(f"/users/{w.gp.id}/status", {"is_active": True})
    assert status == 200
    with pytest.raises(aiohttp.WSServerHandshakeError) as enabled:
        await client.session.ws_connect(call["ws_url"])
    assert enabled.value.status == 401


async def test_bad_messages_get_errors_and_the_server_keeps_serving(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    _, gp_call = await w.gp.get(f"/consultations/{cid}/call")
    _, sp_call = await w.specialist.get(f"/consultations/{cid}/call")
    async with (
        client.session.ws_connect(gp_call["ws_url"]) as gp,
        client.session.ws_connect(sp_call["ws_url"]) as sp,
    ):
        gp_welcome = await gp.receive_json(timeout=5)
        sp_welcome = await sp.receive_json(timeout=5)
        [gp_seen] = sp_welcome["peers"]
        assert gp_seen["peer_id"] == gp_welcome["peer_id"] and gp_seen["role"] == "gp"
        joined = await gp.receive_json(timeout=5)
        assert joined["type"] == "peer-joined" and joined["role"] == "specialist"
        assert joined["peer_id"] == sp_welcome["peer_id"]
        # Exactly one side of the pair is polite.
        assert joined["polite"] != gp_seen["polite"]

        for raw, error in [
            ("{not json", "malformed"),
            ("[1, 2]", "malformed"),
            (json.dumps({"type": "launch-missiles"}), "unknown_type"),
            (json.dumps({"type": "offer", "sdp": 42}), "malformed"),
            (json.dumps({"type": "offer", "sdp": "v" * (MAX_SDP_BYTES + 10)}), "too_large"),
            (json.dumps({"type": "candidate", "candidate": "x"}), "malformed"),
        ]:
            await sp.send_str(raw)
            reply = await sp.receive_json(timeout=5)
            assert reply["type"] == "error" and reply["error"] == error, (raw[:40], reply)
        await sp.send_bytes(b"\x00\x01")
        assert (await sp.receive_json(timeout=5))["error"] == "malformed"

        # After all that the connection still relays to the other participant.
        await sp.send_json({"type": "offer", "sdp": "v=0\r\n"})
        offer = await gp.receive_json(timeout=5)
        assert offer == {"type": "offer", "sdp": "v=0\r\n", "from": sp_welcome["peer_id"]}

        # A frame larger than any allowed message closes that connection only.
        await sp.send_str("x" * (MAX_SDP_BYTES + 32 * 1024))
        closing = await sp.receive(timeout=5)
        assert closing.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        )
        left = await gp.receive_json(timeout=5)
        assert left == {"type": "peer-left", "peer_id": sp_welcome["peer_id"]}

        # A flood gets an error and a close; the other participant is unaffected.
        _, again = await w.specialist.get(f"/consultations/{cid}/call")
        async with client.session.ws_connect(again["ws_url"]) as flooder:
            await flooder.receive_json(timeout=5)
            for _ in range(120):
                await flooder.send_json({"type": "ping"})
            replies = []
            async for msg in flooder:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    replies.append(json.loads(msg.data))
            assert any(r.get("error") == "flood" for r in replies)
        await gp.send_json({"type": "ping"})
        while (msg := await gp.receive_json(timeout=5))["type"] != "pong":
            assert msg["type"] in ("peer-joined", "peer-left")

    status, _ = await w.gp.get(f"/consultations/{cid}")
    assert status == 200


async def test_a_second_connection_replaces_the_first(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    _, first = await w.gp.get(f"/consultations/{cid}/call")
    _, second = await w.gp.get(f"/consultations/{cid}/call")
    _, sp_call = await w.specialist.get(f"/consultations/{cid}/call")
    async with client.session.ws_connect(sp_call["ws_url"]) as sp:
        await sp.receive_json(timeout=5)
        old = await client.session.ws_connect(first["ws_url"])
        old_welcome = await old.receive_json(timeout=5)
        assert (await sp.receive_json(timeout=5))["peer_id"] == old_welcome["peer_id"]
        async with client.session.ws_connect(second["ws_url"]) as new:
            new_welcome = await new.receive_json(timeout=5)
            assert [p["role"] for p in new_welcome["peers"]] == ["specialist"]
            replaced = await old.receive_json(timeout=5)
            assert replaced["error"] == "replaced"
            closing = await old.receive(timeout=5)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == CLOSE_REPLACED
            seen = [await sp.receive_json(timeout=5), await sp.receive_json(timeout=5)]
            assert {"type": "peer-left", "peer_id": old_welcome["peer_id"]} in seen
            assert any(m.get("peer_id") == new_welcome["peer_id"] for m in seen)
        await old.close()


async def test_patient_joins_only_when_invited(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, _ = await patient.get(f"/consultations/{cid}/call")
    assert status == 403
    # Only the GP invites the patient (one with an account).
    status, body = await w.specialist.post(
        f"/consultations/{cid}/call/options", {"invite_patient": True}
    )
    assert status == 403 and body["code"] == "invite_patient_gp_only", body
    status, options = await w.gp.post(
        f"/consultations/{cid}/call/options", {"invite_patient": True}
    )
    assert status == 200 and options["patient_invited"] is True
    status, call = await patient.get(f"/consultations/{cid}/call")
    assert status == 200, call
    status, _ = await patient.post(f"/consultations/{cid}/call/options", {"mode": "relay"})
    assert status == 403


async def test_three_participants_pair_up_each_with_one_polite_side(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """With the patient invited, a p2p call is a mesh: each pair negotiates on its own."""
    w, cid = await booked_call(client, database.engine, clock.now())
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, _ = await w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True})
    assert status == 200
    sockets: dict[str, Any] = {}
    ids: dict[str, str] = {}
    polite: dict[tuple[str, str], bool] = {}
    try:
        for name, caller in (("gp", w.gp), ("specialist", w.specialist), ("patient", patient)):
            _, call = await caller.get(f"/consultations/{cid}/call")
            ws = await client.session.ws_connect(call["ws_url"])
            welcome = await ws.receive_json(timeout=5)
            assert welcome["mode"] == "p2p"
            sockets[name], ids[name] = ws, welcome["peer_id"]
            for other in welcome["peers"]:
                polite[(name, other["role"])] = other["polite"]
            for earlier in list(sockets)[:-1]:
                joined = await sockets[earlier].receive_json(timeout=5)
                assert joined["type"] == "peer-joined" and joined["role"] == name
                polite[(earlier, name)] = joined["polite"]
        pairs = [("gp", "specialist"), ("gp", "patient"), ("specialist", "patient")]
        assert len(polite) == 6
        for a, b in pairs:
            assert polite[(a, b)] != polite[(b, a)], (a, b)

        # An offer to one participant reaches that one only; a goodbye reaches both others.
        await sockets["patient"].send_json({"type": "offer", "sdp": "v=0\r\n", "to": ids["gp"]})
        got = await sockets["gp"].receive_json(timeout=5)
        assert got == {"type": "offer", "sdp": "v=0\r\n", "from": ids["patient"]}
        await sockets["gp"].send_json({"type": "bye"})
        for name in ("specialist", "patient"):
            got = await sockets[name].receive_json(timeout=5)
            assert got == {"type": "bye", "from": ids["gp"]}, name
        # The goodbye closes the GP's connection: the others are told it left.
        closing = await sockets["gp"].receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE
        for name in ("specialist", "patient"):
            got = await sockets[name].receive_json(timeout=5)
            assert got == {"type": "peer-left", "peer_id": ids["gp"]}, name
    finally:
        for ws in sockets.values():
            await ws.close()


async def test_the_python_client_keeps_its_counterpart_when_a_third_joins(
    client: Any, database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, _ = await w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True})
    assert status == 200
    gp = CallClient(base_url(client), cid, token=w.gp.token)
    specialist = CallClient(base_url(client), cid, token=w.specialist.token)
    try:
        await exchange_frames(gp, specialist)
        _, call = await patient.get(f"/consultations/{cid}/call")
        async with client.session.ws_connect(call["ws_url"]) as ws:
            welcome = await ws.receive_json(timeout=5)
            assert {p["role"] for p in welcome["peers"]} == {"gp", "specialist"}
            await ws.send_json({"type": "offer", "sdp": "v=0\r\n", "to": gp.peer_id})
            seen = gp.frames["video"]
            await until(lambda: gp.frames["video"] >= seen + 10)
            assert gp.remote == specialist.peer_id and gp.remote_role == "specialist"
            assert gp.pc is not None and gp.pc.connectionState == "connected"
    finally:
        await leave_all(gp, specialist)


async def test_recording_needs_the_patients_consent_and_keeps_frames_encoded(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    status, _ = await w.gp.post(f"/consultations/{cid}/call/recording-consent", {"granted": True})
    assert status == 403
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, options = await patient.post(
        f"/consultations/{cid}/call/recording-consent", {"granted": True}
    )
    assert status == 200 and options["record"] is True and options["mode"] == "relay", options

    announced = await client.server.app[BUS].subscribe("recordings")
    gp = CallClient(base_url(client), cid, token=w.gp.token)
    specialist = CallClient(base_url(client), cid, token=w.specialist.token)
    try:
        await exchange_frames(gp, specialist, frames=15)
        assert gp.mode == "relay"
    finally:
        await leave_all(gp, specialist)

    files = []
    async with asyncio.timeout(15):
        async for event in announced:
            assert event["consultation_id"] == cid
            files.append(Path(event["file"]))
            if len(files) == 2:
                break
    await announced.close()
    assert all(f.parent == settings.data_dir / "recordings" / cid for f in files)
    for file in files:
        with av.open(str(file)) as container:
            assert container.streams.video[0].codec_context.name == "vp8"
            assert sum(1 for _ in container.decode(video=0)) >= 5

    # Each recording is filed in the patient's passport as a hashed attachment.
    status, passport = await patient.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, passport
    attachments = [e for e in passport["items"] if e["kind"] == "attachment"]
    assert sorted(e["body"]["sha256"] for e in attachments) == sorted(
        hashlib.sha256(f.read_bytes()).hexdigest() for f in files
    )
    assert all(e["consultation_id"] == cid for e in attachments)
