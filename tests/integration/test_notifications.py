"""Messages that leave the service: a consent code by SMS through a stand-in gateway (a
small aiohttp server of the test's own), e-mail through a real SMTP server (aiosmtpd), and
every message delivered once after the gateway was away for a while."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from teleconsult.app import create_app
from teleconsult.appkeys import MESSAGES, SESSIONMAKER
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.uow import unit_of_work
from teleconsult.notify.models import Message
from teleconsult.notify.outbox import queue

from ..conftest import Database, free_port, make_settings
from ..factories import world
from .messaging_support import PHONE, Gateway, book, bookable, patient_with_phone, recorded
from .messaging_support import gateway as gateway
from .messaging_support import sms_settings as sms_settings


async def _ask_consent(gp: Any, patient_id: str, clock: FakeClock) -> dict[str, Any]:
    status, request = await gp.post(
        f"/patients/{patient_id}/consent-requests",
        {
            "grantee_user_id": gp.id,
            "access": "read",
            "expires_at": (clock.now() + timedelta(days=7)).isoformat(),
        },
    )
    assert status == 201, request
    return dict(request)


async def test_a_consent_code_arrives_by_sms_in_kazakh_and_confirms_the_grant(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    patient_id = await patient_with_phone(w.gp)
    request = await _ask_consent(w.gp, patient_id, clock)

    await gateway.wait_for(1)
    [sms] = gateway.received
    assert sms["phone"] == PHONE and sms["auth"] == "Bearer gateway-token"
    assert sms["key"] and "кодыңыз" in sms["text"]
    code = re.search(r"\b(\d{6})\b", sms["text"])
    assert code is not None

    url = f"/consent-requests/{request['id']}/confirm"
    status, granted = await w.gp.post(url, {"code": code.group(1)})
    assert status == 200, granted
    status, _ = await w.gp.get(f"/patients/{patient_id}/passport")
    assert status == 200

    # Once delivered, the code is not kept; and it was never in a log.
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        [row] = (await session.scalars(select(Message))).all()
    assert row.sent_at is not None and row.params == {} and row.kind == "consent_code"
    assert code.group(1) not in caplog.text and PHONE not in caplog.text


async def test_a_patient_without_a_phone_gets_no_code_and_a_clear_answer(
    aiohttp_client: Any, database: Database, clock: FakeClock, sms_settings: Settings
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    status, body = await w.gp.post(
        f"/patients/{w.patient_id}/consent-requests",
        {
            "grantee_user_id": w.gp.id,
            "access": "read",
            "expires_at": (clock.now() + timedelta(days=7)).isoformat(),
        },
    )
    assert status == 409 and body["code"] == "patient_has_no_phone", body


async def test_every_message_arrives_once_after_the_gateway_was_away(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    gateway.away = True
    requests = [await _ask_consent(w.gp, await patient_with_phone(w.gp), clock) for _ in range(3)]
    relay = client.app[MESSAGES]

    async def rows() -> list[Message]:
        async with unit_of_work(client.app[SESSIONMAKER]) as session:
            return list((await session.scalars(select(Message))).all())

    # Each is tried and refused (by the relay in the background or here): none delivered,
    # each waits for its retry.
    async with asyncio.timeout(10):
        while not all(row.last_error for row in await rows()):
            await relay.deliver()
    assert gateway.received == []

    gateway.away = False
    assert await relay.deliver() == 0  # not due yet: the back-off holds
    clock.advance(minutes=1)
    await relay.nudge()
    await gateway.wait_for(3)
    await asyncio.sleep(0.2)
    keys = [sms["key"] for sms in gateway.received]
    assert len(keys) == 3 == len(set(keys)) == len(requests)
    delivered = await rows()
    assert all(row.sent_at is not None and row.attempts >= 2 for row in delivered)
    assert sorted(str(row.id) for row in delivered) == sorted(keys)


async def test_an_email_reaches_a_real_smtp_server(
    aiohttp_client: Any, database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Inbox(Sink):
        def __init__(self) -> None:
            self.mails: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.mails.append(envelope)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        settings = make_settings(
            database.url, tmp_path / "data", smtp_host="127.0.0.1", smtp_port=port
        )
        client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
        async with unit_of_work(client.app[SESSIONMAKER]) as session:
            message = queue(
                session,
                kind="consent_code",
                channel="email",
                address="patient@example.kz",
                language="ru",
                params={"code": "123456"},
                secret=("code",),
                now=clock.now(),
            )
        async with asyncio.timeout(10):
            # The SMTP server runs its own loop in a thread: look, don't wait on an event.
            while not inbox.mails:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        [mail] = inbox.mails
        assert mail.rcpt_tos == ["patient@example.kz"]
        content = mail.content.decode()
        assert f"<{message.id}@teleconsult>" in content
        assert "Message-ID" in content and "Subject: Teleconsult" in content
    finally:
        smtp.stop()


def test_production_takes_sms_codes_only_with_a_gateway(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="TELECONSULT_SMS_URL"):
        make_settings("sqlite+aiosqlite://", tmp_path, consent_codes="sms")
    ok = make_settings(
        "sqlite+aiosqlite://",
        tmp_path,
        env="production",
        secret_key="k" * 48,
        consent_codes="sms",
        sms_url="http://127.0.0.1:9/send",
    )
    assert ok.consent_codes == "sms"


async def test_a_booking_is_confirmed_reminded_and_its_cancellation_drops_the_reminders(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    from .passport_support import patient_account, relogin

    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    first = await book(w, patient_id, starts)
    await recorded(client, 1)
    assert "жазылды" in gateway.received[0]["text"]  # booked, in Kazakh
    local = starts + timedelta(hours=5)
    assert local.strftime("%d.%m.%Y %H:%M") in gateway.received[0]["text"]

    # The patient sees what was sent and what waits, never a code or their whole number.
    patient = await patient_account(w.admin, patient_id)
    status, mine = await patient.get("/me/messages")
    assert status == 200, mine
    kinds = {m["kind"]: m for m in mine["items"]}
    assert set(kinds) == {"booking_confirmed", "reminder_24h", "reminder_1h"}
    assert kinds["booking_confirmed"]["sent_at"] is not None
    assert kinds["reminder_24h"]["sent_at"] is None and kinds["reminder_24h"]["due_at"]
    assert all(m["to"] == "•••4567" for m in mine["items"])
    # Nobody else sees them: the GP has only the booking in their pages.
    status, theirs = await w.gp.get("/me/messages")
    assert status == 200 and [(m["kind"], m["channel"]) for m in theirs["items"]] == [
        ("booked", "page")
    ]

    # A day before, the reminder goes out; the hour-before one waits.
    clock.set(starts - timedelta(hours=24))
    await client.app[MESSAGES].nudge()
    await recorded(client, 2)
    assert "ертең" in gateway.received[1]["text"]

    # Cancelled: the hour-before reminder never goes, and the patient is told.
    gp = await relogin(client, w.gp)  # a day later: a new session
    status, body = await gp.post(f"/consultations/{first['id']}/cancel")
    assert status == 200, body
    await recorded(client, 3)
    assert "тоқтатылды" in gateway.received[2]["text"]
    clock.set(starts - timedelta(minutes=30))
    assert await client.app[MESSAGES].deliver() == 0
    assert len(gateway.received) == 3


async def test_a_patient_turns_reminders_off_but_still_gets_codes(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    from .passport_support import patient_account

    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    await book(w, patient_id, starts)
    patient = await patient_account(w.admin, patient_id)
    await recorded(client, 1)

    status, chosen = await patient.post("/me/message-settings", {"reminders": False})
    assert status == 200 and chosen == {"reminders": False}
    status, now_set = await patient.get("/me/message-settings")
    assert now_set == {"reminders": False}
    status, mine = await patient.get("/me/messages")
    assert [m["kind"] for m in mine["items"]] == ["booking_confirmed"]
    # Staff have no reminders to turn off; a code still reaches the patient.
    status, _ = await w.gp.post("/me/message-settings", {"reminders": False})
    assert status == 403
    await _ask_consent(w.gp, patient_id, clock)
    await gateway.wait_for(2)
    assert re.search(r"\b\d{6}\b", gateway.received[1]["text"])


async def test_a_patient_who_chose_russian_gets_messages_in_russian(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    from .passport_support import patient_account

    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    patient_id = await patient_with_phone(w.gp)
    patient = await patient_account(w.admin, patient_id)
    resp = await client.patch("/api/v1/me", json={"language": "ru"}, headers=patient.headers())
    assert resp.status == 200, await resp.text()
    await _ask_consent(w.gp, patient_id, clock)
    await gateway.wait_for(1)
    assert "ваш код" in gateway.received[0]["text"]


async def test_a_patient_who_can_sign_in_is_told_a_consent_request_waits(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    from .passport_support import patient_account

    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    patient = await patient_account(w.admin, patient_id)
    await book(w, patient_id, starts)
    await recorded(client, 2)
    status, mine = await patient.get("/me/messages")
    assert status == 200
    sent = {m["kind"] for m in mine["items"] if m["sent_at"]}
    assert sent == {"booking_confirmed", "consent_request_waiting"}
    assert any("рұқсат сұрайды" in sms["text"] for sms in gateway.received)


@pytest.mark.parametrize("env", ["development", "test"])
async def test_the_development_outbox_shows_texts_in_development_only(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    tmp_path: Path,
    env: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(database.url, tmp_path / "data", env=env)
    client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        queue(
            session,
            kind="consent_code",
            channel="sms",
            address=PHONE,
            language="en",
            params={"code": "424242"},
            secret=("code",),
            now=clock.now(),
        )
    if env == "development":  # the console "delivers" it, and the text stays whole
        await recorded(client, 1)
    status, body = await w.admin.get("/dev/outbox")
    if env == "test":
        assert status == 404, body
        return
    assert status == 200, body
    [message] = body["items"]
    assert "424242" in message["text"] and message["to"] == "•••4567"
    # The console is a log: it shows the message with its code and number masked.
    assert "development only" in caplog.text
    assert "424242" not in caplog.text and PHONE not in caplog.text
    status, _ = await w.gp.get("/dev/outbox")
    assert status == 403


async def test_a_moved_booking_is_told_and_its_reminders_follow_the_new_time(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    from .passport_support import patient_account

    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    first = await book(w, patient_id, starts)
    patient = await patient_account(w.admin, patient_id)
    resp = await client.patch("/api/v1/me", json={"language": "ru"}, headers=patient.headers())
    assert resp.status == 200, await resp.text()
    await recorded(client, 1)

    later = starts + timedelta(hours=1)
    _, page = await w.gp.get("/slots", specialist_id=w.specialist.id, limit=50)
    [slot] = [s for s in page["items"] if datetime.fromisoformat(s["starts_at"]) == later]
    status, moved = await w.gp.post(f"/consultations/{first['id']}/move", {"slot_id": slot["id"]})
    assert status == 200, moved
    await recorded(client, 2)
    sms = gateway.received[1]["text"]
    old_local, new_local = (
        (at + timedelta(hours=5)).strftime("%d.%m.%Y %H:%M") for at in (starts, later)
    )
    # In the patient's language (Russian), with the old and the new time.
    assert "перенесена" in sms and old_local in sms and new_local in sms

    # The reminders wait for the new time only.
    status, mine = await patient.get("/me/messages")
    assert status == 200, mine
    waiting = {m["kind"]: m["due_at"] for m in mine["items"] if m["sent_at"] is None}
    assert set(waiting) == {"reminder_24h", "reminder_1h"}
    assert datetime.fromisoformat(waiting["reminder_1h"]) == later - timedelta(hours=1)
    # The GP and the specialist see it in their pages, in their language.
    for staff in (w.gp, w.specialist):
        status, theirs = await staff.get("/me/messages")
        assert status == 200, theirs
        [note] = [m for m in theirs["items"] if m["kind"] == "moved"]
        assert note["channel"] == "page" and new_local in note["text"]

    # The day-before reminder goes a day before the new time, the hour-before one an hour
    # before it; at the old time's hour-before nothing goes.
    clock.set(later - timedelta(hours=24))
    await client.app[MESSAGES].nudge()
    await recorded(client, 3)
    clock.set(starts - timedelta(minutes=59))
    assert await client.app[MESSAGES].deliver() == 0
    clock.set(later - timedelta(minutes=59))
    await client.app[MESSAGES].nudge()
    await recorded(client, 4)
    assert len(gateway.received) == 4
    assert all(new_local in sms["text"] for sms in gateway.received[2:])
