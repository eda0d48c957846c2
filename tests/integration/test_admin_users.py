"""The administrator's users: the paged list, disable/enable, one-time reset links, and a
patient's account made from the patient's record."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from teleconsult.app import create_app
from teleconsult.clock import FakeClock
from teleconsult.logs import AccessLogger, JsonFormatter

from ..conftest import Database
from ..factories import PASSWORD, Api, login, user, world

NEW_PASSWORD = "a brand new passphrase"


async def _reset(client: Any, token: str, password: str = NEW_PASSWORD) -> tuple[int, Any]:
    resp = await client.post(
        "/api/v1/auth/password-reset", json={"token": token, "password": password}
    )
    return resp.status, await resp.json()


async def test_users_are_listed_by_name_searched_and_filtered(
    client: Any, database: Database
) -> None:
    w = await world(client, database.engine)
    status, page = await w.admin.get("/users", limit=2)
    assert status == 200, page
    assert len(page["items"]) == 2 and page["next"]
    status, rest = await w.admin.get("/users", limit=2, cursor=page["next"])
    assert status == 200, rest
    names = [u["full_name"] for u in page["items"] + rest["items"]]
    assert names == sorted(names) and len(names) == 3  # admin, gp, specialist
    assert "password_hash" not in str(page)

    status, gps = await w.admin.get("/users", role="gp")
    assert [u["id"] for u in gps["items"]] == [w.gp.id]
    assert gps["items"][0]["facility"].startswith("Clinic ")
    _, found = await w.admin.get("/users", q="SPECIALIST")
    assert [u["id"] for u in found["items"]] == [w.specialist.id]
    _, by_username = await w.admin.get("/users", q=w.gp.user["username"][:6])
    assert w.gp.id in [u["id"] for u in by_username["items"]]
    _, none = await w.admin.get("/users", q="nobody%")
    assert none["items"] == []


async def test_only_administrators_manage_users(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    for caller in (w.gp, w.specialist):
        assert (await caller.get("/users"))[0] == 403
        assert (await caller.post(f"/users/{w.gp.id}/disable"))[0] == 403
        assert (await caller.post(f"/users/{w.gp.id}/password-reset"))[0] == 403
        assert (await caller.get("/admin/patients", q="Test"))[0] == 403
    # A patient's account: an administrator, or the patient's GP (test_notify_links.py).
    status, body = await w.specialist.post(f"/patients/{w.patient_id}/account", {"username": "x-y"})
    assert status == 403, body


async def test_disabling_ends_sessions_and_is_audited(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    assert (await w.gp.get("/me"))[0] == 200
    status, body = await w.admin.post(f"/users/{w.gp.id}/disable")
    assert status == 200, body
    assert body["is_active"] is False
    assert (await w.gp.get("/me"))[0] == 401
    resp = await client.post(
        "/api/v1/auth/login", json={"username": w.gp.user["username"], "password": PASSWORD}
    )
    assert resp.status == 401
    status, body = await w.admin.post(f"/users/{w.gp.id}/enable")
    assert status == 200 and body["is_active"] is True, body
    again = await login(client, w.gp.user["username"])
    assert (await again.get("/me"))[0] == 200
    status, body = await w.admin.post(f"/users/{w.admin.id}/disable")
    assert status == 409 and body["code"] == "cannot_disable_self", body
    status, body = await w.admin.post("/users/00000000-0000-0000-0000-000000000000/disable")
    assert status == 404 and body["code"] == "user_not_found", body


async def test_a_reset_link_works_once_and_expires(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    status, link = await w.admin.post(f"/users/{w.gp.id}/password-reset")
    assert status == 201, link
    token = link["token"]
    assert link["link"].endswith(token) and link["link"].startswith("/#/reset/")

    status, body = await _reset(client, token, "short")
    assert status == 422 and "password" in body["fields"], body
    status, body = await _reset(client, token)
    assert status == 200, body
    assert body["username"] == w.gp.user["username"]
    assert (await w.gp.get("/me"))[0] == 401  # its sessions ended
    await login(client, w.gp.user["username"], NEW_PASSWORD)
    status, body = await _reset(client, token, "yet another passphrase")
    assert status == 400 and body["code"] == "reset_link_invalid", body

    _, second = await w.admin.post(f"/users/{w.gp.id}/password-reset")
    _, third = await w.admin.post(f"/users/{w.gp.id}/password-reset")
    status, body = await _reset(client, second["token"])
    assert status == 400, body  # a newer link replaced it
    clock.advance(hours=25)
    status, body = await _reset(client, third["token"])
    assert status == 400 and body["code"] == "reset_link_invalid", body
    status, body = await _reset(client, "not-a-token")
    assert status == 400, body


async def test_a_patient_account_is_made_from_the_patient(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    status, found = await w.admin.get("/admin/patients", q="test pat")
    assert status == 200, found
    [pick] = found["items"]
    assert pick["id"] == w.patient_id and pick["has_account"] is False
    _, by_iin = await w.admin.get("/admin/patients", q=pick["iin"][:6])
    assert w.patient_id in [p["id"] for p in by_iin["items"]]

    status, made = await w.admin.post(
        f"/patients/{w.patient_id}/account", {"username": "patient-amina"}
    )
    assert status == 201, made
    assert made["user"]["role"] == "patient"
    assert made["user"]["full_name"] == "Test Patient"
    # Nobody can sign in to it until the patient chooses a password through the link.
    resp = await client.post(
        "/api/v1/auth/login", json={"username": "patient-amina", "password": PASSWORD}
    )
    assert resp.status == 401
    status, body = await _reset(client, made["token"])
    assert status == 200, body
    me = await login(client, "patient-amina", NEW_PASSWORD)
    assert me.user["patient_id"] == w.patient_id

    _, found = await w.admin.get("/admin/patients", q="test pat")
    assert found["items"][0]["has_account"] is True
    status, body = await w.admin.post(
        f"/patients/{w.patient_id}/account", {"username": "patient-other"}
    )
    assert status == 409 and body["code"] == "patient_has_account", body


async def test_username_taken_for_a_patient_account(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    other: Api = await user(w.admin, "gp", facility_id=w.clinic)
    status, body = await w.admin.post(
        f"/patients/{w.patient_id}/account", {"username": other.user["username"]}
    )
    assert status == 409 and body["code"] == "username_taken", body


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_reset_token_is_never_logged(
    aiohttp_client: Any,
    database: Database,
    settings: Any,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = TestServer(create_app(settings, clock=clock, engine=database.engine))
    await server.start_server(
        access_log_class=AccessLogger, access_log=logging.getLogger("aiohttp.access")
    )
    logged = await aiohttp_client(server)
    caplog.set_level(logging.DEBUG)
    w = await world(logged, database.engine)
    _, link = await w.admin.post(f"/users/{w.gp.id}/password-reset")
    status, body = await _reset(logged, link["token"])
    assert status == 200, body
    status, body = await _reset(logged, link["token"])
    assert status == 400, body
    formatter = JsonFormatter()
    everything = "\n".join(formatter.format(r) for r in caplog.records)
    assert "/api/v1/auth/password-reset" in everything
    assert link["token"] not in everything
    assert NEW_PASSWORD not in everything
