"""Files in a consultation's chat: sent by their uploader, read by the participants only
(audited), and every message reaches the participants' live events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from teleconsult.clock import FakeClock

from .. import filekit
from ..callkit import booked_call
from ..conftest import Database
from ..factories import user

pytestmark = pytest.mark.timeout(60)


async def _audit_reasons(database: Database, patient_id: str, action: str) -> list[str]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT document FROM audit_entries WHERE chain = :c"), {"c": patient_id}
        )
        docs = [json.loads(doc) for (doc,) in rows]
    return [d["reason"] for d in docs if d["action"] == action]


async def test_a_file_sent_in_the_chat_is_read_by_the_participants(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    image = filekit.jpeg(size=(300, 200))
    status, body = await filekit.upload(w.gp, image, "ecg.jpg")
    assert status == 200, body
    file_id = body["file"]["id"]
    status, sent = await w.gp.post(f"/consultations/{cid}/chat", {"file_id": file_id})
    assert status == 201, sent
    assert sent["text"] == "" and sent["mine"] is True
    assert sent["file"] == {
        "id": file_id,
        "name": "ecg.jpg",
        "content_type": "image/jpeg",
        "size": len(image),
        "thumbnail": True,
    }
    # The specialist sees it in the chat and opens it, and its thumbnail.
    status, page = await w.specialist.get(f"/consultations/{cid}/chat")
    assert status == 200, page
    [message] = page["items"]
    assert message["file"]["id"] == file_id and message["mine"] is False
    status, back = await filekit.fetch(w.specialist, f"/files/{file_id}")
    assert status == 200 and back == image
    status, _ = await filekit.fetch(w.specialist, f"/files/{file_id}/thumbnail")
    assert status == 200
    # The patient, once invited to the call, takes part and reads it too.
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, _ = await filekit.fetch(patient, f"/files/{file_id}")
    assert status == 404
    status, _ = await w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True})
    assert status == 200
    status, back = await filekit.fetch(patient, f"/files/{file_id}")
    assert status == 200 and back == image
    # A chat file is not one of the referral's files, and is sent once only.
    status, listed = await w.gp.get(f"/consultations/{cid}/files")
    assert status == 200 and listed == []
    status, body = await w.gp.post(f"/consultations/{cid}/chat", {"file_id": file_id})
    assert status == 404 and body["code"] == "file_not_found", body
    status, body = await w.gp.post(f"/consultations/{cid}/files", {"file_id": file_id})
    assert status == 404, body
    # Sent and read, in the patient's audit chain (never the file's name).
    assert len(await _audit_reasons(database, w.patient_id, "file.attach")) == 1
    reads = await _audit_reasons(database, w.patient_id, "file.read")
    assert len(reads) == 3 and all("chat" in r for r in reads), reads
    assert not any("ecg.jpg" in r for r in reads)


async def test_chat_files_are_refused_to_outsiders_and_for_others_uploads(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    status, body = await filekit.upload(w.gp, filekit.pdf(), "labs.pdf")
    assert status == 200, body
    gp_upload = body["file"]["id"]
    # Someone else's upload cannot be sent: the specialist tries the GP's.
    status, body = await w.specialist.post(f"/consultations/{cid}/chat", {"file_id": gp_upload})
    assert status == 404 and body["code"] == "file_not_found", body
    status, body = await w.specialist.post(
        f"/consultations/{cid}/chat", {"file_id": "00000000-0000-0000-0000-000000000000"}
    )
    assert status == 404 and body["code"] == "file_not_found", body
    status, body = await w.gp.post(f"/consultations/{cid}/chat", {"file_id": "not-an-id"})
    assert status == 422 and "file_id" in body["fields"], body
    status, body = await w.gp.post(f"/consultations/{cid}/chat", {"text": " "})
    assert status == 422 and "text" in body["fields"], body
    status, page = await w.gp.get(f"/consultations/{cid}/chat")
    assert page["items"] == []
    status, sent = await w.gp.post(
        f"/consultations/{cid}/chat", {"text": "Potassium", "file_id": gp_upload}
    )
    assert status == 201 and sent["file"]["content_type"] == "application/pdf", sent
    # Outsiders: another GP, another specialist, the patient not invited: 404.
    other_gp = await user(w.admin, "gp", facility_id=w.clinic)
    other_specialist = await user(
        w.admin, "specialist", facility_id=w.hospital, specialties=["cardiology"]
    )
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    for outsider in (other_gp, other_specialist, patient):
        status, _ = await filekit.fetch(outsider, f"/files/{gp_upload}")
        assert status == 404
    # An outsider's own upload cannot be sent into a consultation they take no part in.
    status, body = await filekit.upload(other_gp, filekit.png(), "x.png")
    assert status == 200, body
    status, body = await other_gp.post(
        f"/consultations/{cid}/chat", {"file_id": body["file"]["id"]}
    )
    assert status == 404 and body["code"] == "consultation_not_found", body
    # A refused type never becomes a file to send.
    status, body = await filekit.upload(w.gp, filekit.executable(), "ecg.jpg")
    assert status == 415 and body["code"] == "file_type_refused", body


async def test_a_chat_message_reaches_the_participants_live_events(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w, cid = await booked_call(client, database.engine, clock.now())
    ws = await client.ws_connect("/api/v1/events", headers=w.specialist.headers())
    try:
        hello = await ws.receive_json(timeout=5)
        assert f"user:{w.specialist.id}" in hello["channels"], hello
        status, sent = await w.gp.post(f"/consultations/{cid}/chat", {"text": "BP 150/95"})
        assert status == 201
        while True:
            message = await ws.receive_json(timeout=5)
            if message.get("type") == "chat":
                break
        message.pop("channel", None)
        # Ids only: the page reads the chat itself.
        assert message == {"type": "chat", "consultation_id": cid, "message_id": sent["id"]}
    finally:
        await ws.close()
