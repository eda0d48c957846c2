"""The pages' language is stored on the account: ``GET /me`` tells it, ``PATCH /me`` sets it."""

from __future__ import annotations

from typing import Any

from ..conftest import Database
from ..factories import Api, login, world


async def _patch_me(api: Api, body: Any) -> tuple[int, Any]:
    resp = await api.client.patch("/api/v1/me", json=body, headers=api.headers())
    return resp.status, await resp.json()


async def test_the_language_is_remembered_per_account(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    status, me = await w.gp.get("/me")
    assert status == 200
    assert me["language"] is None

    status, me = await _patch_me(w.gp, {"language": "kk"})
    assert status == 200, me
    assert me["language"] == "kk"
    assert me["id"] == w.gp.id

    # A new sign-in sees it; another account is untouched.
    again = await login(client, w.gp.user["username"])
    assert again.user["language"] == "kk"
    status, me = await again.get("/me")
    assert me["language"] == "kk"
    status, other = await w.specialist.get("/me")
    assert other["language"] is None
    assert other["specialties"] == ["cardiology"]

    status, me = await _patch_me(w.specialist, {"language": "ru"})
    assert status == 200
    assert (me["language"], me["specialties"]) == ("ru", ["cardiology"])


async def test_only_the_three_languages_are_taken(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    for bad in ("de", "", "KK", 3, None):
        status, body = await _patch_me(w.gp, {"language": bad})
        assert status == 422, (bad, body)
        assert body["code"] == "invalid"
        assert body["field_codes"]["language"] == "enum"
    status, body = await _patch_me(w.gp, {})
    assert status == 422
    assert body["field_codes"] == {"language": "missing"}
    status, body = await _patch_me(w.gp, {"language": "en", "role": "admin"})
    assert status == 422
    assert body["field_codes"]["role"] == "extra_forbidden"
    status, me = await w.gp.get("/me")
    assert me["language"] is None and me["role"] == "gp"


async def test_patch_me_needs_a_session(client: Any) -> None:
    resp = await client.patch("/api/v1/me", json={"language": "ru"})
    assert resp.status == 401
    assert (await resp.json())["code"] == "unauthorized"
