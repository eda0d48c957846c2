"""A patient without an account is invited to the call: an account with no password is made
for it, "the call is open now" goes by SMS to the record's phone, and its one-time link
joins the call as the patient."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from teleconsult.accounts.models import User
from teleconsult.app import create_app
from teleconsult.appkeys import SESSIONMAKER
from teleconsult.audit.models import AuditEntry
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.uow import unit_of_work

from ..conftest import Database
from ..factories import PASSWORD, Api, facility, user
from .messaging_support import PHONE, Gateway, book, bookable, link_for, open_link
from .messaging_support import gateway as gateway
from .messaging_support import sms_settings as sms_settings
from .passport_support import relogin


async def _accounts_of(client: Any, patient_id: str) -> list[User]:
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        rows = await session.scalars(select(User).where(User.patient_id == uuid.UUID(patient_id)))
        return list(rows.all())


async def test_a_patient_without_an_account_joins_the_call_from_the_sms_link(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    gateway: Gateway,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    cid = (await book(w, patient_id, starts))["id"]
    options = f"/consultations/{cid}/call/options"
    assert await _accounts_of(client, patient_id) == []

    # A GP of another clinic does not see the consultation, nor read its options.
    outsider = await user(w.admin, "gp", facility_id=await facility(w.admin))
    status, body = await outsider.post(options, {"invite_patient": True})
    assert status == 404, body
    status, body = await outsider.get(options)
    assert status == 404, body
    status, body = await w.gp.get(options)
    assert status == 200 and body["patient_invited"] is False, body
    assert await _accounts_of(client, patient_id) == []

    # The GP invites the patient: told where the link goes, hinted.
    status, body = await w.gp.post(options, {"invite_patient": True})
    assert status == 200 and body["patient_invited"] is True, body
    assert body["patient_sms_to"] == "•••" + PHONE[-4:], body
    status, body = await w.gp.post(options, {})  # asked again: still said
    assert status == 200 and body["patient_sms_to"] == "•••" + PHONE[-4:], body
    status, body = await w.gp.get(options)  # read later: still said
    assert body["patient_invited"] is True and body["patient_sms_to"] == "•••" + PHONE[-4:], body
    status, body = await w.specialist.post(options, {})  # the GP's to know, not theirs
    assert status == 200 and body["patient_sms_to"] is None, body
    status, body = await w.specialist.get(options)
    assert status == 200 and body["patient_invited"] is True, body
    assert body["patient_sms_to"] is None, body
    [account] = await _accounts_of(client, patient_id)
    assert account.role == "patient" and account.is_active

    # The account cannot sign in with a password, and is not among the staff.
    for password in (PASSWORD, "", account.password_hash, account.password_hash[1:]):
        resp = await client.post(
            "/api/v1/auth/login", json={"username": account.username, "password": password}
        )
        assert resp.status in (401, 422), await resp.text()
    status, page = await w.gp.get("/people", q="Test Patient")
    assert status == 200 and str(account.id) not in {p["id"] for p in page["items"]}, page
    for role in ("gp", "specialist", "admin"):
        status, page = await w.admin.get("/users", role=role)
        assert status == 200 and str(account.id) not in {u["id"] for u in page["items"]}, page

    # The invitation is in the patient's audit chain.
    async with unit_of_work(client.app[SESSIONMAKER]) as session:
        documents = [
            json.loads(d)
            for d in (
                await session.scalars(
                    select(AuditEntry.document).where(AuditEntry.chain == patient_id)
                )
            ).all()
        ]
    [invited] = [d for d in documents if d["action"] == "call.patient_invite"]
    assert invited["actor_id"] == w.gp.id and cid in invited["reason"], invited

    # The window opens: the SMS arrives, its link joins the call's signaling as the patient.
    clock.set(starts - timedelta(minutes=15))
    token = await link_for(client, gateway, cid)
    page = await client.get(f"/call/{cid}")  # where the link leads: the call page
    assert page.status == 200 and page.content_type == "text/html"
    status, opened = await open_link(client, cid, token)
    assert status == 200, opened
    patient = Api(client, opened["token"], {})
    status, me = await patient.get("/me")
    assert status == 200 and me["id"] == str(account.id) and me["patient_id"] == patient_id
    status, body = await patient.get(f"/patients/{patient_id}/passport")
    assert status == 403 and body["code"] == "call_only_session", body
    status, call = await patient.get(f"/consultations/{cid}/call")
    assert status == 200, call
    async with client.session.ws_connect(call["ws_url"]) as ws:
        welcome = await ws.receive_json(timeout=5)
        assert welcome["type"] == "welcome" and welcome["role"] == "patient", welcome
    status, body = await open_link(client, cid, token)
    assert status == 400 and body["code"] == "call_link_invalid", body

    # Invited again later, the same account is used; an invitation to an account takes it
    # over (the patient then chooses a password through its link).
    w.gp = await relogin(client, w.gp)
    assert (await w.gp.post(options, {"invite_patient": False}))[0] == 200
    assert (await w.gp.post(options, {"invite_patient": True}))[0] == 200
    status, body = await w.gp.post(f"/patients/{patient_id}/account", {"username": "aigerim.k"})
    assert status == 201, body
    [taken] = await _accounts_of(client, patient_id)
    assert taken.id == account.id and taken.username == "aigerim.k"
    status, body = await w.gp.post(f"/patients/{patient_id}/account", {"username": "aigerim.b"})
    assert status == 409 and body["code"] == "patient_has_account", body


async def test_a_patient_with_neither_account_nor_phone_cannot_be_invited(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, _ = await bookable(client, database, clock)
    cid = (await book(w, w.patient_id, starts))["id"]
    status, body = await w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True})
    assert status == 409 and body["code"] == "patient_no_phone", body
    assert await _accounts_of(client, w.patient_id) == []
    status, body = await w.gp.get(f"/consultations/{cid}")
    assert status == 200, body


async def test_two_invitations_at_once_make_one_account(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    sms_settings: Settings,
) -> None:
    client = await aiohttp_client(create_app(sms_settings, clock=clock, engine=database.engine))
    w, starts, patient_id = await bookable(client, database, clock)
    ids = [(await book(w, patient_id, starts + timedelta(minutes=20 * i)))["id"] for i in (0, 1)]
    answers = await asyncio.gather(
        *(w.gp.post(f"/consultations/{cid}/call/options", {"invite_patient": True}) for cid in ids)
    )
    assert [status for status, _ in answers] == [200, 200], answers
    assert len(await _accounts_of(client, patient_id)) == 1
