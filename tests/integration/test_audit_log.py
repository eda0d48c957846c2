from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import bootstrap_admin
from .passport_support import clinic


async def _system_chain(database: Database) -> list[dict[str, Any]]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT document FROM audit_entries WHERE chain = 'system' ORDER BY seq")
        )
        return [json.loads(doc) for (doc,) in rows]


async def test_logins_are_audited_success_and_failure(
    client: Any, database: Database, clock: FakeClock
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    resp = await client.post(
        "/api/v1/auth/login", json={"username": "root", "password": "wrong password"}
    )
    assert resp.status == 401
    resp = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "whatever"}
    )
    assert resp.status == 401
    events = [(e["action"], e["outcome"], e["actor_id"]) for e in await _system_chain(database)]
    assert events == [
        ("login", "success", admin.id),
        ("login", "failure", admin.id),
        ("login", "failure", None),
    ]


async def test_access_log_is_for_the_patient_and_administrators(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 403
    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log")
    assert status == 200
    # Claiming the case asked the patient's consent for the specialist (audited too).
    assert log["items"][0]["action"] == "consent.request"
    [entry] = [e for e in log["items"] if e["action"] == "passport.read"]
    assert entry["actor_id"] == c.w.specialist.id
    assert (entry["action"], entry["outcome"]) == ("passport.read", "deny")
    assert set(entry) == {
        "seq",
        "at",
        "actor_id",
        "actor",
        "action",
        "outcome",
        "reason",
        "event",
        "details",
    }
    assert entry["event"] == "passport_denied"
    assert entry["details"] == {"wanted": "read", "denial": "no_consent"}
    for stranger in (c.w.specialist, c.w.gp):
        status, _ = await stranger.get(f"/patients/{c.patient_id}/access-log")
        assert status == 403
    status, _ = await c.patient.get(f"/patients/{uuid.uuid4()}/access-log")
    assert status == 404
    status, _ = await c.w.admin.get(f"/patients/{c.patient_id}/access-log")
    assert status == 200
    # The administrator's look is itself on the record.
    _, after = await c.patient.get(f"/patients/{c.patient_id}/access-log")
    assert after["items"][-1]["action"] == "access_log.read"
    assert after["items"][-1]["actor_id"] == c.w.admin.id


async def test_the_access_log_reads_newest_first_page_by_page(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    for _ in range(3):
        status, _ = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
        assert status == 403
    url = f"/patients/{c.patient_id}/access-log"
    status, everything = await c.patient.get(url, limit=500)
    assert status == 200 and everything["next"] is None
    oldest_first = [e["seq"] for e in everything["items"]]
    assert len(oldest_first) >= 4

    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2, "newest_first": "true"}
    while True:
        status, page = await c.patient.get(url, **params)
        assert status == 200, page
        seen += [e["seq"] for e in page["items"]]
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    # Every event once, newest first (a patient's own look at the log is not an event).
    assert seen == list(reversed(oldest_first))
