"""A database that is away or full is a 503 or 507 that says nothing was saved, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from teleconsult.app import create_app
from teleconsult.db.engine import make_engine

from ..conftest import Database, make_settings
from ..factories import PASSWORD, bootstrap_admin


async def test_an_unreachable_database_is_a_503_with_retry_after(
    aiohttp_client: Any, tmp_path: Any
) -> None:
    # Nothing listens on port 1: every connection is refused.
    settings = make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/teleconsult", tmp_path)
    client = await aiohttp_client(create_app(settings))
    resp = await client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
    assert resp.status == 503
    assert int(resp.headers["Retry-After"]) > 0
    body = await resp.json()
    assert body["error"] == "DatabaseUnavailable" and "nothing was saved" in body["detail"]
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["detail"] == "The database is not reachable."
    assert (await client.get("/healthz")).status == 200


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_connections_cut_by_the_server_are_a_503_then_served_again(
    client: Any, database: Database
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    status, _ = await admin.get("/facilities")
    assert status == 200
    killer = make_engine(database.url)
    async with killer.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await killer.dispose()
    statuses = []
    for _ in range(5):
        status, body = await admin.get("/facilities")
        statuses.append(status)
        if status == 200:
            break
        assert status == 503 and body["error"] == "DatabaseUnavailable", body
    assert statuses[-1] == 200, statuses
    assert (await client.get("/readyz")).status == 200


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_full_disk_is_a_507_and_the_process_is_not_ready(
    client: Any, database: Database
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    assert (await client.get("/readyz")).status == 200

    # From now on the database file may not grow: SQLite then fails as on a full disk.
    @event.listens_for(database.engine.sync_engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA max_page_count = 1")  # never below the current size
        cursor.close()

    await database.engine.dispose()
    statuses = []
    for i in range(300):
        status, body = await admin.post(
            "/facilities", {"name": f"Clinic {i:04d}", "region": "karaganda", "level": "primary"}
        )
        statuses.append(status)
        if status != 201:
            break
    assert statuses[-1] == 507, statuses
    assert body["error"] == "StorageFull" and "nothing was saved" in body["detail"]
    ready = await client.get("/readyz")
    assert ready.status == 503 and "Storage is full" in (await ready.json())["detail"]
    # What failed was not saved; what was acknowledged before is all there.
    status, page = await admin.get("/facilities", limit=500)
    names = {f["name"] for f in page["items"]}
    assert names >= {f"Clinic {i:04d}" for i in range(len(statuses) - 1)}
    assert f"Clinic {len(statuses) - 1:04d}" not in names
