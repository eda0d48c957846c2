"""Messages in the pages: a GP is told a booking is made and that an async case is answered
(and by e-mail when their account has one, through a real SMTP server); the bell counts the
unread ones and opening marks one's own read, never someone else's."""

from __future__ import annotations

import uuid
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from teleconsult.app import create_app
from teleconsult.clock import FakeClock

from ..conftest import Database, make_settings
from ..factories import login, world
from .messaging_support import Inbox, new_gp
from .messaging_support import inbox as inbox
from .passport_support import consultation_in_progress, patient_account


async def test_the_gp_is_told_an_async_case_was_answered_in_the_page_and_by_email(
    aiohttp_client: Any, database: Database, clock: FakeClock, inbox: Inbox, tmp_path: Path
) -> None:
    settings = make_settings(
        database.url, tmp_path / "data", smtp_host="127.0.0.1", smtp_port=inbox.port
    )
    client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    staff = await new_gp(w.admin, w.clinic, email="gp@clinic.kz")
    w.gp = await login(client, staff["username"])
    cid = await consultation_in_progress(w)
    status, _ = await w.specialist.post(f"/consultations/{cid}/complete", {"conclusion": "Fine."})
    assert status == 200

    status, mine = await w.gp.get("/me/messages")
    assert status == 200, mine
    answered = [m for m in mine["items"] if m["kind"] == "case_answered"]
    assert {m["channel"] for m in answered} == {"page", "email"}
    assert all(m["consultation_id"] == cid for m in answered)
    await inbox.wait_for(1)
    [mail] = inbox.mails
    assert mail.rcpt_tos == ["gp@clinic.kz"]
    text = message_from_bytes(mail.content, policy=default).get_content()
    assert "асинхронды" in text and "Fine." not in text  # Kazakh; no clinical content
    # The specialist and the patient are told nothing of it.
    status, theirs = await w.specialist.get("/me/messages")
    assert [m for m in theirs["items"] if m["kind"] == "case_answered"] == []


async def test_the_bell_counts_unread_messages_and_opening_marks_only_ones_own(
    client: Any, database: Database, clock: FakeClock
) -> None:
    from .messaging_support import book, bookable

    w, starts, patient_id = await bookable(client, database, clock)
    patient = await patient_account(w.admin, patient_id)
    await book(w, patient_id, starts)

    status, count = await w.gp.get("/me/messages/unread")
    assert status == 200 and count == {"count": 1}
    status, mine = await w.gp.get("/me/messages")
    [booked] = mine["items"]
    assert booked["kind"] == "booked" and booked["read_at"] is None
    status, theirs = await w.specialist.get("/me/messages")
    [specialists] = theirs["items"]

    # Someone else's message (the specialist's, or one that does not exist) is not touched.
    status, out = await w.gp.post(
        "/me/messages/read", {"ids": [specialists["id"], str(uuid.uuid4())]}
    )
    assert status == 200 and out == {"count": 1}, out
    status, out = await patient.post("/me/messages/read", {"ids": [booked["id"]]})
    assert status == 200 and out == {"count": 0}
    assert (await w.specialist.get("/me/messages/unread"))[1] == {"count": 1}

    status, out = await w.gp.post("/me/messages/read", {"ids": [booked["id"]]})
    assert status == 200 and out == {"count": 0}, out
    status, mine = await w.gp.get("/me/messages")
    assert mine["items"][0]["read_at"] is not None

    status, body = await w.gp.post("/me/messages/read", {"ids": []})
    assert status == 422 and "ids" in body["fields"], body
    status, body = await w.gp.post("/me/messages/read", {"ids": ["not-an-id"]})
    assert status == 422, body
