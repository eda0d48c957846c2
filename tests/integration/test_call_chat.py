"""Chat in a consultation, the step signal, and turning a failing call into an async case."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from teleconsult.clock import FakeClock

from ..callkit import booked_call
from ..conftest import Database
from ..factories import user

pytestmark = pytest.mark.timeout(60)


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of ``kind`` on a signaling socket (bounded)."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        data = json.loads(msg.data)
        if data.get("type") == kind:
            return dict(data)


async def test_chat_is_kept_with_the_consultation_and_reaches_the_call(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    status, call = await w.specialist.get(f"/consultations/{cid}/call")
    assert status == 200, call
    async with client.session.ws_connect(call["ws_url"]) as ws:
        await _next(ws, "welcome")
        status, sent = await w.gp.post(f"/consultations/{cid}/chat", {"text": "  BP 150/95  "})
        assert status == 201, sent
        assert sent["text"] == "BP 150/95" and sent["mine"] is True
        assert sent["author_role"] == "gp"
        live = await _next(ws, "chat")
        assert live["message"]["text"] == "BP 150/95"
        assert live["message"]["id"] == sent["id"]
    clock.advance(seconds=5)
    status, _ = await w.specialist.post(f"/consultations/{cid}/chat", {"text": "Noted."})
    assert status == 201
    # Afterwards, for both participants, oldest first.
    for who, mine in ((w.gp, [True, False]), (w.specialist, [False, True])):
        status, page = await who.get(f"/consultations/{cid}/chat")
        assert status == 200, page
        assert [m["text"] for m in page["items"]] == ["BP 150/95", "Noted."]
        assert [m["mine"] for m in page["items"]] == mine
    # Empty or oversized: a field error.
    status, body = await w.gp.post(f"/consultations/{cid}/chat", {"text": "   "})
    assert status == 422 and "text" in body["fields"], body
    status, body = await w.gp.post(f"/consultations/{cid}/chat", {"text": "x" * 2001})
    assert status == 422 and "text" in body["fields"], body


async def test_only_participants_read_or_write_the_chat(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """IDOR: another GP, another specialist, the patient not invited, and an administrator
    get 404 for a consultation they take no part in."""
    w, cid = await booked_call(client, database.engine, clock.now())
    status, _ = await w.gp.post(f"/consultations/{cid}/chat", {"text": "private"})
    assert status == 201
    other_gp = await user(w.admin, "gp", facility_id=w.clinic)
    other_specialist = await user(
        w.admin, "specialist", facility_id=w.hospital, specialties=["cardiology"]
    )
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    for outsider in (other_gp, other_specialist, patient):
        status, body = await outsider.get(f"/consultations/{cid}/chat")
        assert status == 404, body
        status, body = await outsider.post(f"/consultations/{cid}/chat", {"text": "hello"})
        assert status == 404, body
    status, _ = await w.admin.get(f"/consultations/{cid}/chat")
    assert status == 403
    # Invited to the call, the patient takes part.
    status, _ = await w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True})
    assert status == 200
    status, page = await patient.get(f"/consultations/{cid}/chat")
    assert status == 200 and [m["text"] for m in page["items"]] == ["private"]


async def test_a_senders_step_reaches_the_other_side(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    _, gp_call = await w.gp.get(f"/consultations/{cid}/call")
    _, sp_call = await w.specialist.get(f"/consultations/{cid}/call")
    async with client.session.ws_connect(gp_call["ws_url"]) as gp:
        await _next(gp, "welcome")
        async with client.session.ws_connect(sp_call["ws_url"]) as sp:
            welcome = await _next(sp, "welcome")
            await gp.send_json({"type": "step", "step": 3})
            got = await _next(sp, "step")
            assert got["step"] == 3 and got["from"] == welcome["peers"][0]["peer_id"]
            await sp.send_json({"type": "step", "step": 7})
            error = await _next(sp, "error")
            assert error["error"] == "malformed"


async def test_a_failing_call_becomes_an_async_case_with_its_referral(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now(), minutes_ahead=0)
    # The GP joins (the consultation starts), writes, then the sound fails.
    status, _ = await w.gp.post(f"/consultations/{cid}/chat", {"text": "ECG sent by post"})
    assert status == 201
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, _ = await patient.post(f"/consultations/{cid}/to-async", {})
    assert status == 403
    other_gp = await user(w.admin, "gp", facility_id=w.clinic)
    status, _ = await other_gp.post(f"/consultations/{cid}/to-async", {})
    assert status == 404
    status, body = await w.specialist.post(f"/consultations/{cid}/to-async", {})
    assert status == 200, body
    assert body["mode"] == "async" and body["status"] == "in_progress"
    status, c = await w.specialist.get(f"/consultations/{cid}")
    assert status == 200
    assert c["mode"] == "async" and c["reason"] == "palpitations"
    assert c["specialist_id"] == w.specialist.id
    # In the specialist's queue today, and the chat is still there.
    status, queue = await w.specialist.get("/queue", tz="UTC")
    assert status == 200, queue
    assert cid in [item["id"] for item in queue["items"]]
    status, page = await w.gp.get(f"/consultations/{cid}/chat")
    assert [m["text"] for m in page["items"]] == ["ECG sent by post"]
    # Once only.
    status, body = await w.gp.post(f"/consultations/{cid}/to-async", {})
    assert status == 409 and body["code"] == "to_async_not_possible", body


async def test_the_chat_names_its_authors_and_is_read_only_once_completed(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    status, body = await w.specialist.post(f"/consultations/{cid}/start")
    assert status == 200, body
    status, sent = await w.gp.post(f"/consultations/{cid}/chat", {"text": "Holter?"})
    assert status == 201 and sent["author_id"] == w.gp.id, sent
    status, _ = await w.specialist.post(f"/consultations/{cid}/complete", {"conclusion": "Stable."})
    assert status == 200
    status, body = await w.specialist.post(f"/consultations/{cid}/chat", {"text": "One more"})
    assert status == 409 and body["code"] == "chat_closed", body
    status, page = await w.specialist.get(f"/consultations/{cid}/chat")
    assert status == 200
    assert [(m["text"], m["author_id"]) for m in page["items"]] == [("Holter?", w.gp.id)]
