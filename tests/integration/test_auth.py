from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from teleconsult.accounts.auth import new_token, token_hash, user_for_token
from teleconsult.accounts.models import AuthToken, LoginFailure, User
from teleconsult.accounts.passwords import Passwords
from teleconsult.accounts.schemas import UserCreate
from teleconsult.accounts.service import create_user
from teleconsult.codes import Role
from teleconsult.db.engine import make_sessionmaker
from teleconsult.db.uow import unit_of_work

from ..conftest import Database, make_settings
from ..factories import PASSWORD, bootstrap_admin, facility, user


async def test_login_returns_an_opaque_token_stored_only_as_a_hash(
    client: Any, database: Database
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    assert admin.user["role"] == "admin"
    async with database.engine.connect() as conn:
        stored = list(await conn.scalars(select(AuthToken.token_hash)))
    assert admin.token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64
    status, me = await admin.get("/me")
    assert status == 200 and me["username"] == "root"


async def test_wrong_password_and_unknown_user_look_the_same(
    client: Any, database: Database
) -> None:
    await bootstrap_admin(database.engine, client)
    for username in ("root", "nobody"):
        resp = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": "wrong-password"}
        )
        assert resp.status == 401
        assert (await resp.json())["detail"] == "Wrong username or password."


async def test_logout_revokes_the_token_on_the_next_request(
    client: Any, database: Database
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, _ = await admin.post("/auth/logout")
    assert status == 200
    status, body = await admin.get("/me")
    assert status == 401
    assert body["error"] == "Unauthorized"


async def test_disabling_a_user_takes_effect_at_once(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    gp = await user(admin, "gp", facility_id=await facility(admin))
    assert (await gp.get("/me"))[0] == 200
    status, _ = await admin.post(f"/users/{gp.id}/status", {"is_active": False})
    assert status == 200
    assert (await gp.get("/me"))[0] == 401


async def test_a_token_expires_after_its_lifetime(
    client: Any, database: Database, clock: Any
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    clock.advance(hours=11, minutes=59)
    assert (await admin.get("/me"))[0] == 200
    clock.advance(minutes=1)
    status, body = await admin.get("/me")
    assert status == 401 and body["error"] == "Unauthorized"


async def test_the_caller_is_the_sessions_own_user_object(database: Database) -> None:
    """The token lookup hands over a user the session knows, unchanged: an update to it
    through the session is the same object, and reading it writes nothing."""
    sessionmaker = make_sessionmaker(database.engine)
    async with unit_of_work(sessionmaker) as session:
        admin = await create_user(
            session,
            Passwords(1, 1024),
            UserCreate(username="root", password=PASSWORD, full_name="Admin", role=Role.admin),
        )
        token = new_token()
        session.add(
            AuthToken(
                token_hash=token_hash(token),
                user_id=admin.id,
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
    async with unit_of_work(sessionmaker) as session:
        caller = await user_for_token(session, token, datetime.now(UTC))
        assert caller is not None and caller.username == "root" and caller.is_active
        assert await session.get(User, admin.id) is caller
        assert not session.dirty and not session.new
        assert await user_for_token(session, "not-a-token", datetime.now(UTC)) is None
        assert await user_for_token(session, token, datetime.now(UTC) + timedelta(hours=2)) is None


async def _sign_in(client: Any, username: str, password: str, address: str) -> Any:
    return await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": f"203.0.113.9, {address}"},
    )


@pytest.fixture
def settings(database: Database, tmp_path: Any) -> Any:
    # The test client's requests come from loopback, as through a proxy on this machine.
    return make_settings(database.url, tmp_path / "data", trusted_proxies=["127.0.0.1"])


async def test_a_guessing_address_backs_off_while_the_owner_signs_in_elsewhere(
    client: Any, database: Database, clock: Any
) -> None:
    await bootstrap_admin(database.engine, client)
    for _ in range(5):  # free tries
        assert (await _sign_in(client, "root", "wrong", "198.51.100.1")).status == 401
    # Then the pair backs off, doubling: even the right password must wait.
    resp = await _sign_in(client, "root", PASSWORD, "198.51.100.1")
    assert resp.status == 429 and resp.headers["Retry-After"] == "1"
    assert (await resp.json())["error"] == "TooManyRequests"
    clock.advance(seconds=1)
    assert (await _sign_in(client, "root", "wrong", "198.51.100.1")).status == 401
    resp = await _sign_in(client, "root", "wrong", "198.51.100.1")
    assert resp.status == 429 and resp.headers["Retry-After"] == "2"
    # The owner, from another address, is not locked out by someone who knows the username.
    assert (await _sign_in(client, "root", PASSWORD, "192.0.2.7")).status == 200
    clock.advance(seconds=2)
    assert (await _sign_in(client, "root", PASSWORD, "198.51.100.1")).status == 200
    # A success clears its pair: the next mistake from there is a free try again.
    assert (await _sign_in(client, "root", "wrong", "198.51.100.1")).status == 401
    assert (await _sign_in(client, "root", "wrong", "198.51.100.1")).status == 401


async def test_one_address_spraying_usernames_is_stopped(
    client: Any, database: Database, clock: Any
) -> None:
    await bootstrap_admin(database.engine, client)
    for i in range(30):
        assert (await _sign_in(client, f"user{i}", "guess", "198.51.100.2")).status == 401
    resp = await _sign_in(client, "root", PASSWORD, "198.51.100.2")
    assert resp.status == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert (await _sign_in(client, "root", PASSWORD, "192.0.2.8")).status == 200
    clock.advance(minutes=15, seconds=1)
    assert (await _sign_in(client, "root", PASSWORD, "198.51.100.2")).status == 200


async def test_an_account_has_a_ceiling_over_all_addresses(
    client: Any, database: Database, clock: Any
) -> None:
    await bootstrap_admin(database.engine, client)
    for i in range(100):
        assert (await _sign_in(client, "root", "guess", f"10.1.{i // 250}.{i % 250}")).status == 401
    resp = await _sign_in(client, "root", PASSWORD, "192.0.2.9")
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
    clock.advance(minutes=15, seconds=1)
    assert (await _sign_in(client, "root", PASSWORD, "192.0.2.9")).status == 200


async def test_concurrent_wrong_attempts_are_counted_exactly(
    client: Any, database: Database
) -> None:
    await bootstrap_admin(database.engine, client)
    # Forty at once from one address: its five free tries are checked, the rest wait.
    same = await asyncio.gather(
        *(_sign_in(client, "root", "wrong", "198.51.100.3") for _ in range(40))
    )
    assert sorted(r.status for r in same) == [401] * 5 + [429] * 35
    # Forty at once from forty addresses: every one is checked and counted.
    spread = await asyncio.gather(
        *(_sign_in(client, "root", "wrong", f"10.2.0.{i}") for i in range(40))
    )
    assert [r.status for r in spread] == [401] * 40
    async with database.engine.connect() as conn:
        counted = await conn.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.username == "root")
        )
    assert counted == 45


async def test_a_forwarded_address_counts_only_from_a_trusted_proxy(
    aiohttp_client: Any, database: Database, tmp_path: Any
) -> None:
    from teleconsult.app import create_app

    untrusted = make_settings(database.url, tmp_path / "data")
    other = await aiohttp_client(create_app(untrusted, engine=database.engine))
    await bootstrap_admin(database.engine, other)
    for i in range(5):
        assert (await _sign_in(other, "root", "wrong", f"10.3.0.{i}")).status == 401
    # Without trust in the peer, the header is the client's own words: all came from loopback.
    assert (await _sign_in(other, "root", PASSWORD, "10.3.0.99")).status == 429


async def test_cookie_session_needs_the_csrf_header_on_unsafe_requests(
    client: Any, database: Database
) -> None:
    await bootstrap_admin(database.engine, client)
    resp = await client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
    assert resp.status == 200
    cookie = resp.cookies["tc_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    csrf = resp.cookies["tc_csrf"].value
    # Safe methods work with the cookie alone.
    assert (await client.get("/api/v1/me")).status == 200
    body = {"name": "Clinic", "region": "abai", "level": "primary"}
    resp = await client.post("/api/v1/facilities", json=body)
    assert resp.status == 403
    assert (await resp.json())["detail"] == "Missing or wrong CSRF token."
    resp = await client.post("/api/v1/facilities", json=body, headers={"X-CSRF-Token": csrf})
    assert resp.status == 201


async def test_roles_are_checked(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    gp = await user(admin, "gp", facility_id=await facility(admin))
    status, body = await gp.post(
        "/users",
        {"username": "sneaky", "password": "a long passphrase", "full_name": "x", "role": "admin"},
    )
    assert status == 403
    assert body["error"] == "Forbidden"


async def test_user_creation_validates_role_links(client: Any, database: Database) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, body = await admin.post(
        "/users",
        {
            "username": "spec1",
            "password": "a long passphrase",
            "full_name": "x",
            "role": "specialist",
            "facility_id": await facility(admin),
        },
    )
    assert status == 422
    assert "specialties" in body["fields"]
    status, body = await admin.post(
        "/users",
        {"username": "gp1", "password": "a long passphrase", "full_name": "x", "role": "gp"},
    )
    assert status == 422 and "facility_id" in body["fields"]
    status, body = await admin.post(
        "/users",
        {"username": "root", "password": "a long passphrase", "full_name": "x", "role": "admin"},
    )
    assert status == 409


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "at least 12 characters"),
        ("qwerty123456", "too common"),
        ("QWERTY123456", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
    ],
)
async def test_a_new_password_is_long_and_not_a_common_one(
    client: Any, database: Database, password: str, problem: str
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, body = await admin.post(
        "/users",
        {"username": "newadmin", "password": password, "full_name": "x", "role": "admin"},
    )
    assert status == 422
    assert set(body["fields"]) == {"password"}
    assert problem in body["fields"]["password"]
    assert password not in body["detail"]
    status, body = await admin.post(
        "/users",
        {
            "username": "newadmin",
            "password": "my own long phrase",
            "full_name": "x",
            "role": "admin",
        },
    )
    assert status == 201, body
