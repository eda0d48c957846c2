"""Errors carry codes the pages translate: a domain error its ``code``, a 422 a code per field
with the numbers its text needs; never only an English message."""

from __future__ import annotations

from typing import Any

from ..conftest import Database
from ..factories import PASSWORD, world


async def test_field_codes_carry_their_numbers(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    base = {"full_name": "New Person", "role": "admin"}

    status, body = await w.admin.post("/users", {**base, "username": "np", "password": "short"})
    assert status == 422, body
    assert body["code"] == "invalid"
    assert body["field_codes"] == {"username": "string_too_short", "password": "password_too_short"}
    assert body["field_params"] == {"username": {"min_length": 3}, "password": {"min_length": 12}}

    status, body = await w.admin.post(
        "/users", {**base, "username": "newperson", "password": "qwerty123456"}
    )
    assert status == 422
    assert body["field_codes"] == {"password": "password_common"}

    status, body = await w.admin.post(
        "/users",
        {
            **base,
            "username": "newspec",
            "password": PASSWORD,
            "role": "specialist",
            "facility_id": w.hospital,
            "specialties": ["astrology"],
        },
    )
    assert status == 422
    assert body["field_codes"] == {"specialties.0": "unknown_specialty"}

    status, body = await w.admin.post(
        "/users", {**base, "username": w.gp.user["username"], "password": PASSWORD}
    )
    assert status == 409
    assert body["code"] == "username_taken"
    assert body["field_codes"] == {"username": "username_taken"}

    status, body = await w.admin.get("/stats/specialties", **{"from": "1800-01-01"})
    assert status == 422
    assert body["field_codes"] == {"from": "year_out_of_range"}
    assert body["field_params"] == {"from": {"earliest_year": 1900, "latest_year": 2199}}

    status, body = await w.admin.get("/stats/specialties", region="atlantis")
    assert status == 422
    assert body["field_codes"] == {"region": "unknown_region"}


async def test_domain_errors_name_their_code(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    resp = await client.post(
        "/api/v1/auth/login", json={"username": w.gp.user["username"], "password": "wrong one"}
    )
    assert resp.status == 401
    assert (await resp.json())["code"] == "wrong_credentials"

    status, body = await w.gp.get("/stats/specialties")
    assert status == 403
    assert body["code"] == "role_forbidden"

    resp = await client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status == 401
    assert (await resp.json())["code"] == "session_expired"

    resp = await client.post(
        "/api/v1/users", data="{", headers={**w.admin.headers(), "Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["code"] == "body_not_json"
