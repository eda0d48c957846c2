"""A revocation is linearizable: once the patient's revoke is answered, no write permitted
under the grant commits after it, on either engine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select

from teleconsult.audit.models import AuditEntry
from teleconsult.clock import FakeClock

from ..conftest import Database
from .passport_support import clinic, grant, note


async def test_no_write_permitted_under_a_grant_commits_after_its_revocation(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    given = await grant(c, clock, user_id=c.w.specialist.id)
    revoke_url = f"/patients/{c.patient_id}/consents/{given['id']}/revoke"

    first_written = asyncio.Event()
    writes: list[tuple[int, Any]] = []

    async def keep_writing(worker: int) -> None:
        # Writes one after another until the grant no longer permits them (bounded: on SQLite
        # the revocation queues for the one writer behind the notes, so allow it many turns).
        for i in range(600):
            status, body = await note(c.w.specialist, c.consultation_id, f"Note {worker}.{i}")
            writes.append((status, body))
            if status == 201:
                first_written.set()
            else:
                return

    async def revoke() -> None:
        await first_written.wait()  # while writes are in flight
        status, _ = await c.patient.post(revoke_url)
        assert status == 200

    await asyncio.gather(*(keep_writing(w) for w in range(6)), revoke())
    assert all(status in (201, 403) for status, _ in writes), writes
    written = [body["id"] for status, body in writes if status == 201]
    assert written
    # Every writer was refused in the end.
    assert sum(status == 403 for status, _ in writes) == 6

    # The patient's audit chain orders what happened: every permitted write comes before the
    # revocation, and every write after it was denied.
    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AuditEntry.seq, AuditEntry.document)
                .where(AuditEntry.chain == c.patient_id)
                .order_by(AuditEntry.seq)
            )
        ).all()
    events = [json.loads(r.document) for r in rows]
    revocation = next(i for i, e in enumerate(events) if e["action"] == "consent.revoke")
    writes_after = [e for e in events[revocation:] if e["action"] == "passport.write"]
    assert all(e["outcome"] == "deny" for e in writes_after), writes_after
    permits = [e for e in events if e["action"] == "passport.write" and e["outcome"] == "permit"]
    assert len(permits) == len(written)
    # And the passport holds exactly the acknowledged writes.
    status, page = await c.patient.get(f"/patients/{c.patient_id}/passport", limit=500)
    assert status == 200
    assert {e["id"] for e in page["items"]} == set(written)
