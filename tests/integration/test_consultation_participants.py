"""A multidisciplinary consultation: the specialist invites a specialist of another specialty,
who sees it in their queue, joins its call and chat, and reads the passport only once the
patient has confirmed the consent request made with the invitation; the GP invites the
patient; at most four take part; every refusal (IDOR) on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from teleconsult.clock import FakeClock

from ..callkit import booked_call
from ..conftest import Database
from ..factories import user

pytestmark = pytest.mark.timeout(60)


async def _specialist(w: Any, specialty: str) -> Any:
    return await user(w.admin, "specialist", facility_id=w.hospital, specialties=[specialty])


async def test_an_invited_specialist_takes_part_and_reads_the_passport_once_consented(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    neuro = await _specialist(w, "neurology")
    status, invited = await w.specialist.post(
        f"/consultations/{cid}/participants", {"user_id": neuro.id}
    )
    assert status == 201, invited
    assert invited["user_id"] == neuro.id and invited["invited_by"] == w.specialist.id
    assert invited["consent_status"] == "pending"
    # Their queue, the consultation, its chat and its call.
    status, queue = await neuro.get("/queue", tz="UTC")
    assert status == 200 and [i["id"] for i in queue["items"]] == [cid], queue
    status, c = await neuro.get(f"/consultations/{cid}")
    assert status == 200 and c["specialist_id"] == w.specialist.id
    status, sent = await neuro.post(f"/consultations/{cid}/chat", {"text": "EEG first?"})
    assert status == 201 and sent["author_id"] == neuro.id, sent
    status, page = await w.gp.get(f"/consultations/{cid}/chat")
    assert [m["author_role"] for m in page["items"]] == ["specialist"]
    status, call = await neuro.get(f"/consultations/{cid}/call")
    assert status == 200, call
    # The referral's files are theirs to read (not to add to).
    status, files = await neuro.get(f"/consultations/{cid}/files")
    assert status == 200 and files == [], files
    # Joining does not start the consultation on its specialist's behalf.
    async with client.session.ws_connect(call["ws_url"]) as ws:
        welcome = await ws.receive_json(timeout=5)
        assert welcome["type"] == "welcome" and welcome["role"] == "specialist"
    status, c = await neuro.get(f"/consultations/{cid}")
    assert c["status"] == "scheduled"
    # The passport: refused until the patient agrees, through the consent request.
    status, body = await neuro.get(f"/patients/{w.patient_id}/passport")
    assert status == 403 and body["code"] == "consent_denied", body
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, requests = await patient.get(f"/patients/{w.patient_id}/consent-requests")
    assert status == 200, requests
    mine = [r for r in requests["items"] if r["grantee_user_id"] == neuro.id]
    assert [r["id"] for r in mine] == [invited["consent_request_id"]]
    assert mine[0]["consultation_id"] == cid and mine[0]["requested_by"] == w.specialist.id
    status, grant = await patient.post(f"/consent-requests/{invited['consent_request_id']}/confirm")
    assert status == 200, grant
    status, passport = await neuro.get(f"/patients/{w.patient_id}/passport")
    assert status == 200, passport
    # The patient's access log tells of the invitation, by whom and whom.
    status, log = await patient.get(f"/patients/{w.patient_id}/access-log")
    assert status == 200, log
    [invitation] = [e for e in log["items"] if e["event"] == "consultation_invite"]
    assert invitation["actor"]["id"] == w.specialist.id
    assert invitation["details"]["grantee"]["specialties"] == ["neurology"], invitation
    # Who takes part, and where the consent stands, for every participant.
    for who in (w.gp, w.specialist, neuro, patient):
        status, listed = await who.get(f"/consultations/{cid}/participants")
        assert status == 200, listed
        assert [(p["user_id"], p["consent_status"]) for p in listed["items"]] == [
            (neuro.id, "confirmed")
        ]


async def test_only_the_specialist_invites_specialists_and_only_the_gp_the_patient(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    neuro = await _specialist(w, "neurology")
    cardio = await _specialist(w, "cardiology")
    path = f"/consultations/{cid}/participants"
    # Someone else's consultation: not even its existence (404); its GP: 403.
    status, body = await cardio.post(path, {"user_id": neuro.id})
    assert status == 404 and body["code"] == "consultation_not_found", body
    status, body = await w.gp.post(path, {"user_id": neuro.id})
    assert status == 403 and body["code"] == "invite_specialist_only", body
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, body = await patient.post(path, {"user_id": neuro.id})
    assert status == 403, body
    status, body = await cardio.get(path)
    assert status == 404, body
    status, body = await cardio.get(f"/consultations/{cid}/chat")
    assert status == 404, body
    status, body = await cardio.get(f"/consultations/{cid}/call")
    assert status == 404, body
    # Whom: an active specialist of another specialty, once.
    status, body = await w.specialist.post(path, {"user_id": w.gp.id})
    assert status == 422 and body["fields"]["user_id"], body
    assert body["field_codes"]["user_id"] == "no_such_specialist", body
    status, body = await w.specialist.post(path, {"user_id": cardio.id})
    assert status == 422 and body["field_codes"]["user_id"] == "same_specialty", body
    status, body = await w.specialist.post(path, {"user_id": "not-an-id"})
    assert status == 422 and "user_id" in body["fields"], body
    status, _ = await w.specialist.post(path, {"user_id": neuro.id})
    assert status == 201
    status, body = await w.specialist.post(path, {"user_id": neuro.id})
    assert status == 409 and body["code"] == "already_participant", body
    # The invited specialist does not invite others, nor run the consultation.
    derm = await _specialist(w, "dermatology")
    status, body = await neuro.post(path, {"user_id": derm.id})
    assert status == 403 and body["code"] == "invite_specialist_only", body
    status, body = await neuro.post(f"/consultations/{cid}/complete", {"conclusion": "x"})
    assert status == 403, body
    status, body = await neuro.post(f"/consultations/{cid}/call/options", {"mode": "relay"})
    assert status == 403, body
    # The patient: by the GP only.
    options = f"/consultations/{cid}/call/options"
    status, body = await w.specialist.post(options, {"invite_patient": True})
    assert status == 403 and body["code"] == "invite_patient_gp_only", body
    status, body = await neuro.post(options, {"invite_patient": True})
    assert status == 403, body
    status, body = await w.gp.post(options, {"invite_patient": True})
    assert status == 200 and body["patient_invited"] is True, body


async def test_at_most_four_take_part(client: Any, database: Database, clock: FakeClock) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    path = f"/consultations/{cid}/participants"
    options = f"/consultations/{cid}/call/options"
    # A patient with neither an account nor a phone cannot be invited to the call.
    status, body = await w.gp.post(options, {"invite_patient": True})
    assert status == 409 and body["code"] == "patient_no_phone", body
    await user(w.admin, "patient", patient_id=w.patient_id)
    for specialty in ("neurology", "endocrinology"):
        other = await _specialist(w, specialty)
        status, body = await w.specialist.post(path, {"user_id": other.id})
        assert status == 201, body
    # GP, specialist and two invited: a fifth is refused, the patient too.
    fifth = await _specialist(w, "nephrology")
    status, body = await w.specialist.post(path, {"user_id": fifth.id})
    assert status == 409 and body["code"] == "participants_full", body
    status, body = await w.gp.post(options, {"invite_patient": True})
    assert status == 409 and body["code"] == "participants_full", body


async def test_a_fifth_person_is_refused_by_the_call(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """Four connected (GP, specialist, patient, one invited specialist); the patient's
    invitation withdrawn and a second specialist invited, the fifth socket is refused."""
    w, cid = await booked_call(client, database.engine, clock.now())
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    options = f"/consultations/{cid}/call/options"
    status, _ = await w.gp.post(options, {"invite_patient": True})
    assert status == 200
    neuro = await _specialist(w, "neurology")
    status, _ = await w.specialist.post(f"/consultations/{cid}/participants", {"user_id": neuro.id})
    assert status == 201
    sockets = []
    try:
        for who in (w.gp, w.specialist, patient, neuro):
            status, call = await who.get(f"/consultations/{cid}/call")
            assert status == 200, call
            ws = await client.session.ws_connect(call["ws_url"])
            sockets.append(ws)
            welcome = await ws.receive_json(timeout=5)
            assert welcome["type"] == "welcome", welcome
        # Every other participant by user id, so the pages can name each.
        assert {p["user_id"] for p in welcome["peers"]} == {w.gp.id, w.specialist.id, patient.id}
        status, _ = await w.gp.post(options, {"invite_patient": False})
        assert status == 200
        endo = await _specialist(w, "endocrinology")
        status, _ = await w.specialist.post(
            f"/consultations/{cid}/participants", {"user_id": endo.id}
        )
        assert status == 201
        status, call = await endo.get(f"/consultations/{cid}/call")
        assert status == 200, call
        async with client.session.ws_connect(call["ws_url"]) as ws:
            refused = await ws.receive_json(timeout=5)
            assert refused["type"] == "error" and refused["error"] == "call_full", refused
            await ws.receive(timeout=5)
            assert ws.close_code == 4009
    finally:
        for ws in sockets:
            await ws.close()


async def test_the_invited_specialists_queue_hears_of_the_invitation_and_the_start(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    neuro = await _specialist(w, "neurology")
    ws = await client.ws_connect("/api/v1/events", headers=neuro.headers())
    try:
        hello = await ws.receive_json(timeout=5)
        assert f"user:{neuro.id}" in hello["channels"], hello
        status, _ = await w.specialist.post(
            f"/consultations/{cid}/participants", {"user_id": neuro.id}
        )
        assert status == 201
        events = []
        while len(events) < 1:
            message = await ws.receive_json(timeout=5)
            if message.get("consultation_id") == cid:
                events.append(message["event"])
        status, _ = await w.specialist.post(f"/consultations/{cid}/start")
        assert status == 200
        while len(events) < 2:
            message = await ws.receive_json(timeout=5)
            if message.get("consultation_id") == cid:
                events.append(message["event"])
        assert events == ["invited", "start"]
        assert w.patient_id not in str(message)
    finally:
        await ws.close()
