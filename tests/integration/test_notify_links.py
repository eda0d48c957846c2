"""One-time links that reach people by message: a patient's invitation by SMS to the phone on
their record, a password reset to staff by e-mail (a real SMTP server) or else by SMS; the
link is never logged, never shown to anyone else, and answered to the administrator only
when no channel takes it."""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from teleconsult.app import create_app
from teleconsult.appkeys import SESSIONMAKER
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.uow import unit_of_work
from teleconsult.notify.models import Message

from ..conftest import Database, make_settings
from ..factories import PASSWORD, login, world
from .messaging_support import PHONE, Gateway, Inbox, new_gp, patient_with_phone, recorded
from .messaging_support import gateway as gateway
from .messaging_support import inbox as inbox
from .messaging_support import sms_settings as sms_settings

LINK = re.compile(r"https?://\S+/#/reset/([\w-]+)")
NEW_PASSWORD = "a brand new passphrase"


async def _messages(client: Any) -> list[Message]:
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        return list((await session.scalars(select(Message))).all())


async def _use(client: Any, token: str, expect: int = 200) -> None:
    resp = await client.post(
        "/api/v1/auth/password-reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert resp.status == expect, await resp.text()


async def test_a_patient_is_invited_by_sms_and_nobody_else_sees_the_link(
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

    status, out = await w.admin.post(f"/patients/{patient_id}/account", {"username": "aigerim"})
    assert status == 201, out
    # Sent, and by which channel; the administrator is not handed the link.
    assert out["sent_by"] == "sms" and out["sent_to"] == "•••4567"
    assert out["link"] is None and out["token"] is None

    await gateway.wait_for(1)
    [sms] = gateway.received
    assert sms["phone"] == PHONE and "aigerim" in sms["text"]
    assert "сілтеме" in sms["text"]  # in Kazakh, the patient's language by default
    found = LINK.search(sms["text"])
    assert found is not None
    token = found.group(1)
    await recorded(client, 1)

    # The administrator sees nothing of it; the patient later sees that it was sent, never
    # the token; the message keeps no token once delivered.
    status, theirs = await w.admin.get("/me/messages")
    assert status == 200 and theirs["items"] == []
    [row] = await _messages(client)
    assert row.sent_at is not None and "link" not in row.params and row.kind == "invitation"

    await _use(client, token)
    patient = await login(client, "aigerim", NEW_PASSWORD)
    status, mine = await patient.get("/me/messages")
    assert status == 200
    assert [m["kind"] for m in mine["items"]] == ["invitation"]
    assert token not in json.dumps(mine)
    assert token not in caplog.text and PHONE not in caplog.text


async def test_staff_get_a_reset_link_by_email_else_by_sms(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    inbox: Inbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        database.url,
        tmp_path / "data",
        sms_url=gateway.url,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
    )
    client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    with_mail = await new_gp(w.admin, w.clinic, email="doctor@clinic.kz", phone="+77015550000")
    phone_only = await new_gp(w.admin, w.clinic, phone="+77015551111")

    status, out = await w.admin.post(f"/users/{with_mail['id']}/password-reset")
    assert status == 201, out
    assert out["sent_by"] == "email" and out["sent_to"] == "d•••@clinic.kz"
    assert out["link"] is None and out["token"] is None
    await inbox.wait_for(1)
    [mail] = inbox.mails
    assert mail.rcpt_tos == ["doctor@clinic.kz"]
    text = message_from_bytes(mail.content, policy=default).get_content()
    found = LINK.search(text)
    assert found is not None

    status, out = await w.admin.post(f"/users/{phone_only['id']}/password-reset")
    assert status == 201 and out["sent_by"] == "sms" and out["sent_to"] == "•••1111", out
    await gateway.wait_for(1)
    assert gateway.received[0]["phone"] == "+77015551111"
    by_sms = LINK.search(gateway.received[0]["text"])
    assert by_sms is not None

    # Each link works once, for its own account.
    await _use(client, found.group(1))
    await _use(client, found.group(1), expect=400)
    await login(client, with_mail["username"], NEW_PASSWORD)
    await _use(client, by_sms.group(1))
    gp = await login(client, phone_only["username"], NEW_PASSWORD)
    status, mine = await gp.get("/me/messages")
    assert [m["kind"] for m in mine["items"]] == ["password_reset"]
    assert by_sms.group(1) not in json.dumps(mine)
    assert found.group(1) not in caplog.text and by_sms.group(1) not in caplog.text


async def test_without_a_channel_the_administrator_is_handed_the_link(
    aiohttp_client: Any, database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    settings = make_settings(database.url, tmp_path / "data")
    client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    staff = await new_gp(w.admin, w.clinic, email="nobody@clinic.kz")
    status, out = await w.admin.post(f"/users/{staff['id']}/password-reset")
    assert status == 201, out
    assert out["sent_by"] is None and out["link"].startswith("/#/reset/") and out["token"]
    assert await _messages(client) == []


async def test_contact_details_are_checked(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    payload = {"username": "x-user", "password": PASSWORD, "full_name": "X", "role": "admin"}
    status, body = await w.admin.post("/users", payload | {"email": "not an address"})
    assert status == 422 and "email" in body["fields"], body
    status, body = await w.admin.post("/users", payload | {"phone": "call me"})
    assert status == 422 and "phone" in body["fields"], body


async def test_a_gp_invites_their_own_patient_and_only_theirs(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    from ..factories import facility, user

    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    patient_id = await patient_with_phone(w.gp)
    elsewhere = await user(w.admin, "gp", facility_id=await facility(w.admin))
    body = {"username": "dana", "email": "dana@mail.kz"}
    status, out = await elsewhere.post(f"/patients/{patient_id}/account", body)
    assert status == 404 and out["code"] == "patient_not_found", out
    status, out = await w.specialist.post(f"/patients/{patient_id}/account", body)
    assert status == 403, out

    # By SMS to the record's phone first; the GP is not handed the link.
    status, out = await w.gp.post(f"/patients/{patient_id}/account", body)
    assert status == 201, out
    assert out["sent_by"] == "sms" and out["link"] is None and out["token"] is None
    await gateway.wait_for(1)
    found = LINK.search(gateway.received[0]["text"])
    assert found is not None and gateway.received[0]["phone"] == PHONE
    await _use(client, found.group(1))
    await login(client, "dana", NEW_PASSWORD)
    status, out = await w.gp.post(f"/patients/{patient_id}/account", {"username": "dana2"})
    assert status == 409 and out["code"] == "patient_has_account", out


async def test_in_development_the_console_takes_the_link_and_it_is_also_shown(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(database.url, tmp_path / "data", env="development")
    client = await aiohttp_client(create_app(settings, clock=clock, engine=database.engine))
    w = await world(client, database.engine)
    staff = await new_gp(w.admin, w.clinic, phone="+77015552222")
    status, out = await w.admin.post(f"/users/{staff['id']}/password-reset")
    assert status == 201, out
    assert out["sent_by"] == "sms" and out["sent_to"] == "•••2222" and out["token"]
    await recorded(client, 1)
    assert "development only" in caplog.text
    assert out["token"] not in caplog.text and "+77015552222" not in caplog.text
