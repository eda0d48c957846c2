from __future__ import annotations

from typing import Any

import pytest

from ..conftest import Database, production_settings
from ..factories import PASSWORD, bootstrap_admin


async def test_missing_auth_is_401_json(client: Any) -> None:
    resp = await client.get("/api/v1/consultations")
    assert resp.status == 401
    assert resp.content_type == "application/json"
    assert (await resp.json())["error"] == "Unauthorized"


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
async def test_malformed_bodies_are_4xx_never_500(
    client: Any, database: Database, raw: bytes
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    headers = admin.headers({"Content-Type": "application/json"})
    resp = await client.post("/api/v1/facilities", data=raw, headers=headers)
    assert resp.status in (400, 422)
    body = await resp.json()
    assert set(body) >= {"error", "detail"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_is_read_only_as_json(
    client: Any, database: Database, content_type: str
) -> None:
    # A cross-site form can send text/plain: signing in through one must not work.
    admin = await bootstrap_admin(database.engine, client)
    raw = b'{"username": "root", "password": "' + PASSWORD.encode() + b'"}'
    resp = await client.post("/api/v1/auth/login", data=raw, headers={"Content-Type": content_type})
    assert resp.status == 415
    assert (await resp.json())["error"] == "UnsupportedMediaType"
    assert "Set-Cookie" not in resp.headers
    resp = await client.post(
        "/api/v1/facilities",
        data=b'{"name": "X", "region": "karaganda", "level": "primary"}',
        headers=admin.headers({"Content-Type": content_type}),
    )
    assert resp.status == 415


async def test_deeply_nested_json_is_a_400_before_and_after_sign_in(
    client: Any, database: Database
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    deep = b"[" * 100_000 + b"]" * 100_000
    nested_object = b'{"name": ' + deep + b"}"
    json_type = {"Content-Type": "application/json"}
    resp = await client.post("/api/v1/auth/login", data=nested_object, headers=json_type)
    assert resp.status == 400, await resp.text()
    resp = await client.post(
        "/api/v1/facilities", data=nested_object, headers=admin.headers(json_type)
    )
    assert resp.status == 400, await resp.text()


async def test_a_nul_character_is_a_422_naming_the_field(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, body = await admin.post(
        "/facilities", {"name": "Clinic\x00", "region": "karaganda", "level": "primary"}
    )
    assert status == 422 and body["fields"] == {"name": "must not contain NUL characters"}
    resp = await client.post(
        "/api/v1/auth/login", json={"username": "ro\x00ot", "password": "whatever"}
    )
    assert resp.status == 422
    assert (await resp.json())["fields"] == {"username": "must not contain NUL characters"}
    status, body = await admin.get("/people", q="a\x00b")
    assert status == 422 and set(body["fields"]) == {"q"}


async def test_validation_names_every_bad_field(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, body = await admin.post("/facilities", {"name": "", "region": "mars", "level": "x"})
    assert status == 422
    assert set(body["fields"]) == {"name", "region", "level"}


async def test_unknown_routes_and_methods_answer_json(client: Any) -> None:
    resp = await client.get("/api/v1/no-such-thing")
    assert resp.status == 404 and (await resp.json())["error"] == "NotFound"
    resp = await client.delete("/api/v1/me")
    assert resp.status == 405 and (await resp.json())["error"] == "MethodNotAllowed"


async def test_non_uuid_ids_are_404(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, body = await admin.get("/patients/12345")
    assert status == 404 and body["error"] == "NotFound"


async def test_health_readiness_and_openapi(client: Any) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    resp = await client.get("/api/v1/openapi.json")
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    post = doc["paths"]["/api/v1/consultations"]["post"]
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"patient_id", "specialty", "reason"} <= set(schema["properties"])
    assert "409" in post["responses"]


async def test_authentication_is_checked_before_validation(client: Any) -> None:
    resp = await client.post("/api/v1/facilities", json={"region": "nowhere"})
    assert resp.status == 401


async def test_query_datetimes_must_be_iso(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, body = await admin.get("/consultations", to="0.5")
    assert status == 422 and "to" in body["fields"]


async def test_pages_carry_a_content_security_policy(client: Any) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_production_tells_browsers_to_use_https_only(
    aiohttp_client: Any, database: Database, tmp_path: Any
) -> None:
    from teleconsult.app import create_app

    production = production_settings(database.url, tmp_path / "data")
    client = await aiohttp_client(create_app(production, engine=database.engine))
    for path in ("/healthz", "/api/v1/me", "/"):
        resp = await client.get(path)
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000"), path


async def test_development_sends_no_hsts(client: Any) -> None:
    # Loopback HTTP must keep working on a developer's machine.
    resp = await client.get("/healthz")
    assert "Strict-Transport-Security" not in resp.headers
