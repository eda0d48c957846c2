""" "The call is open now": an invited patient gets an SMS with a one-time link when the call's
window opens; the link opens a session for that call only, once, inside the window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from teleconsult.app import create_app
from teleconsult.appkeys import MESSAGES, SESSIONMAKER
from teleconsult.calls.models import CallLink
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.uow import unit_of_work
from teleconsult.notify.models import Message

from .. import filekit
from ..conftest import Database
from ..factories import Api
from .messaging_support import CALL_LINK, Gateway, book, bookable, link_for, open_link
from .messaging_support import gateway as gateway
from .messaging_support import sms_settings as sms_settings
from .passport_support import patient_account


async def test_a_call_link_joins_the_call_once_inside_its_window_and_nothing_else(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    first = (await book(w, patient_id, starts))["id"]
    second = (await book(w, patient_id, starts + timedelta(minutes=20)))["id"]
    await patient_account(w.admin, patient_id)
    for cid in (first, second):
        status, body = await w.gp.post(
            f"/consultations/{cid}/call/options", {"invite_patient": True}
        )
        assert status == 200 and body["patient_invited"], body

    # Nothing before the window opens.
    await client.app[MESSAGES].deliver()
    assert not any(CALL_LINK.search(sms["text"]) for sms in gateway.received)

    clock.set(starts - timedelta(minutes=15))
    token = await link_for(client, gateway, first)
    clock.set(starts + timedelta(minutes=5))
    other = await link_for(client, gateway, second)

    # Another consultation's link is refused; its own opens a session for this call only.
    status, body = await open_link(client, first, other)
    assert status == 400 and body["code"] == "call_link_invalid", body
    status, opened = await open_link(client, first, token)
    assert status == 200, opened
    patient = Api(client, opened["token"], {})
    status, me = await patient.get("/me")
    assert status == 200 and me["role"] == "patient" and me["patient_id"] == patient_id
    for path in (f"/patients/{patient_id}/passport", "/consultations", "/me/messages"):
        status, body = await patient.get(path)
        assert status == 403 and body["code"] == "call_only_session", (path, body)
    status, body = await patient.get(f"/consultations/{second}/call")
    assert status == 403 and body["code"] == "call_only_session", body

    # It joins the call room's signaling as the patient.
    status, call = await patient.get(f"/consultations/{first}/call")
    assert status == 200, call
    async with client.session.ws_connect(call["ws_url"]) as ws:
        welcome = await ws.receive_json(timeout=5)
        assert welcome["type"] == "welcome" and welcome["role"] == "patient"

    # Once only.
    status, body = await open_link(client, first, token)
    assert status == 400 and body["code"] == "call_link_invalid", body

    # Past the window (its slot's end and the hour after), the other link is refused.
    clock.set(starts + timedelta(minutes=40 + 61))
    status, body = await open_link(client, second, other)
    assert status == 403 and body["code"] == "call_not_open", body

    # Tokens are kept only as hashes, never in a message row or a log.
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        hashes = set((await session.scalars(select(CallLink.token_hash))).all())
        rows = (await session.scalars(select(Message).where(Message.kind == "call_open"))).all()
    assert len(rows) == 2 and all("link" not in row.params for row in rows)
    assert token not in hashes and other not in hashes and len(hashes) == 2
    assert token not in caplog.text and other not in caplog.text


async def test_a_withdrawn_invitation_sends_no_link(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    cid = (await book(w, patient_id, starts))["id"]
    await patient_account(w.admin, patient_id)
    url = f"/consultations/{cid}/call/options"
    assert (await w.gp.post(url, {"invite_patient": True}))[0] == 200
    assert (await w.gp.post(url, {"invite_patient": False}))[0] == 200
    clock.set(starts - timedelta(minutes=10))
    await client.app[MESSAGES].deliver()
    assert not any(CALL_LINK.search(sms["text"]) for sms in gateway.received)
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        assert (await session.scalars(select(CallLink))).all() == []


async def test_an_invitation_follows_a_moved_call_to_its_new_window(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    cid = (await book(w, patient_id, starts))["id"]
    await patient_account(w.admin, patient_id)
    url = f"/consultations/{cid}/call/options"
    assert (await w.gp.post(url, {"invite_patient": True}))[0] == 200
    later = starts + timedelta(hours=1)
    _, page = await w.gp.get("/slots", specialist_id=w.specialist.id, limit=50)
    [slot] = [s for s in page["items"] if s["starts_at"][:16] == later.isoformat()[:16]]
    status, moved = await w.gp.post(f"/consultations/{cid}/move", {"slot_id": slot["id"]})
    assert status == 200, moved

    # The old window opens: no link; the new one opens: the link, which joins the call.
    clock.set(starts - timedelta(minutes=10))
    await client.app[MESSAGES].deliver()
    assert not any(CALL_LINK.search(sms["text"]) for sms in gateway.received)
    clock.set(later - timedelta(minutes=15))
    token = await link_for(client, gateway, cid)
    status, opened = await open_link(client, cid, token)
    assert status == 200, opened


async def test_a_call_link_reads_the_files_of_its_chat_and_no_other(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    cid = (await book(w, patient_id, starts))["id"]
    await patient_account(w.admin, patient_id)
    status, _ = await w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True})
    assert status == 200
    sent_ids = []
    for name in ("ecg.png", "referral.pdf"):
        data = filekit.png() if name.endswith("png") else filekit.pdf()
        status, body = await filekit.upload(w.gp, data, name)
        assert status == 200, body
        sent_ids.append(body["file"]["id"])
    chat_file, referral_file = sent_ids
    status, _ = await w.gp.post(f"/consultations/{cid}/chat", {"file_id": chat_file})
    assert status == 201
    status, _ = await w.gp.post(f"/consultations/{cid}/files", {"file_id": referral_file})
    assert status == 201

    clock.set(starts - timedelta(minutes=10))
    token = await link_for(client, gateway, cid)
    status, opened = await open_link(client, cid, token)
    assert status == 200, opened
    patient = Api(client, opened["token"], {})
    status, page = await patient.get(f"/consultations/{cid}/chat")
    assert status == 200 and page["items"][0]["file"]["id"] == chat_file
    for path in (f"/files/{chat_file}", f"/files/{chat_file}/thumbnail"):
        status, _ = await filekit.fetch(patient, path)
        assert status == 200, path
    # The referral's file is not the chat's: refused like a file that does not exist.
    status, _ = await filekit.fetch(patient, f"/files/{referral_file}")
    assert status == 404
