"""The passport read path: the consent decision's audit entry is committed while the entries
are fetched on a reader connection, and no entry is answered unless that commit succeeded.

Commit failures come from the database itself: a check that the database runs only at
COMMIT (a deferred constraint trigger on PostgreSQL, a deferred foreign key on SQLite)
refuses every ``passport.read`` audit entry.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from teleconsult.accounts.models import User
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.consent.decision import authorize
from teleconsult.consent.policy import Access
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.db.uow import commit_while, unit_of_work
from teleconsult.passport.service import read_passport

from ..conftest import Database
from .passport_support import clinic, grant, note

SECRET_NOTE = "Suspected paroxysmal atrial fibrillation"

_REFUSE_POSTGRES = [
    """CREATE FUNCTION tc_test_refuse_read_audit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'read audit refused at commit (test)'; END $$""",
    """CREATE CONSTRAINT TRIGGER tc_test_refuse_read_audit AFTER INSERT ON audit_entries
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
       WHEN (NEW.document LIKE '%"action":"passport.read"%')
       EXECUTE FUNCTION tc_test_refuse_read_audit()""",
]
_ALLOW_POSTGRES = [
    "DROP TRIGGER tc_test_refuse_read_audit ON audit_entries",
    "DROP FUNCTION tc_test_refuse_read_audit()",
]
_REFUSE_SQLITE = [
    "CREATE TABLE tc_test_nothing (id TEXT PRIMARY KEY)",
    """CREATE TABLE tc_test_refused (
       id TEXT REFERENCES tc_test_nothing (id) DEFERRABLE INITIALLY DEFERRED)""",
    """CREATE TRIGGER tc_test_refuse_read_audit AFTER INSERT ON audit_entries
       WHEN NEW.document LIKE '%"action":"passport.read"%'
       BEGIN INSERT INTO tc_test_refused VALUES (NEW.id); END""",
]
_ALLOW_SQLITE = [
    "DROP TRIGGER tc_test_refuse_read_audit",
    "DROP TABLE tc_test_refused",
    "DROP TABLE tc_test_nothing",
]


@asynccontextmanager
async def read_audits_refused_at_commit(database: Database) -> AsyncIterator[None]:
    """Every transaction that appends a ``passport.read`` audit entry fails at COMMIT."""
    postgres = database.backend == "postgres"
    async with database.engine.begin() as conn:
        for sql in _REFUSE_POSTGRES if postgres else _REFUSE_SQLITE:
            await conn.execute(text(sql))
    try:
        yield
    finally:
        async with database.engine.begin() as conn:
            for sql in _ALLOW_POSTGRES if postgres else _ALLOW_SQLITE:
                await conn.execute(text(sql))


async def _audited(database: Database, patient_id: str, action: str) -> list[dict[str, Any]]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT document FROM audit_entries WHERE chain = :c ORDER BY seq"),
            {"c": patient_id},
        )
        docs = [json.loads(doc) for (doc,) in rows]
    return [d for d in docs if d["action"] == action]


async def test_a_read_whose_audit_commit_fails_answers_an_error_and_no_entries(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, written = await note(c.w.specialist, c.consultation_id, SECRET_NOTE, ["I48.0"])
    assert status == 201, written

    async with read_audits_refused_at_commit(database):
        status, body = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 500, body
    assert body == {
        "error": "InternalError",
        "code": "internal",
        "detail": "Something went wrong on our side.",
    }
    assert await _audited(database, c.patient_id, "passport.read") == []

    # The same read with the commit allowed answers the entries, and its decision is on record.
    status, page = await c.w.specialist.get(f"/patients/{c.patient_id}/passport")
    assert status == 200, page
    assert [e["kind"] for e in page["items"]] == ["note", "diagnosis"]
    assert page["items"][0]["body"]["text"] == SECRET_NOTE
    [audited] = await _audited(database, c.patient_id, "passport.read")
    assert (audited["actor_id"], audited["outcome"]) == (c.w.specialist.id, "permit")


async def test_commit_while_drops_what_was_read_when_the_commit_fails(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, SECRET_NOTE)
    fetched: list[int] = []

    async def entries(conn: AsyncConnection) -> int:
        found = int(
            (await conn.execute(text("SELECT count(*) FROM passport_entries"))).scalar_one()
        )
        fetched.append(found)
        return found

    sessions = make_sessionmaker(database.engine)
    async with read_audits_refused_at_commit(database), sessions() as s:
        user = await s.get(User, uuid.UUID(c.w.specialist.id))
        assert user is not None
        # The decision and its audit entry, as a read makes them (the INSERT passes) ...
        await authorize(
            s,
            user,
            uuid.UUID(c.patient_id),
            access=Access.read,
            needed=None,
            action="passport.read",
            now=clock.now(),
            client=None,
        )
        # ... then the COMMIT fails while the entries are read: the commit's error comes
        # back, not what was read.
        with pytest.raises(DBAPIError, match=r"(?i)foreign key|refused at commit"):
            await commit_while(s, entries)
        await s.rollback()
    assert fetched == [1]  # the read did run, beside the commit
    assert await _audited(database, c.patient_id, "passport.read") == []


async def test_a_read_committed_early_is_not_audited_again_when_its_request_fails_later(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, SECRET_NOTE)
    sessions = make_sessionmaker(database.engine)

    with pytest.raises(RuntimeError, match="after the read"):
        async with unit_of_work(sessions) as s:
            user = await s.get(User, uuid.UUID(c.w.specialist.id))
            assert user is not None
            page = await read_passport(
                s, user, uuid.UUID(c.patient_id), now=clock.now(), client=None
            )
            assert page.count == 1 and SECRET_NOTE.encode() in page.body
            raise RuntimeError("the request fails after the read")
    # Committed once, with the read; the rollback that followed did not append it again.
    [audited] = await _audited(database, c.patient_id, "passport.read")
    assert audited["outcome"] == "permit"


async def test_concurrent_reads_beyond_the_pool_size_all_answer(
    aiohttp_client: Any, database: Database, settings: Settings, clock: FakeClock
) -> None:
    """Each read needs a reader connection while it holds its request's own: more reads
    than connections still all answer, none waits for a connection that only another
    waiting read could give back."""
    from teleconsult.app import create_app

    engine = make_engine(database.url, pool_size=2)
    try:
        client = await aiohttp_client(create_app(settings, clock=clock, engine=engine))
        c = await clinic(client, engine)
        await grant(c, clock, user_id=c.w.specialist.id)
        await note(c.w.specialist, c.consultation_id, SECRET_NOTE)
        path = f"/patients/{c.patient_id}/passport"
        answers = await asyncio.wait_for(
            asyncio.gather(*(c.w.specialist.get(path) for _ in range(8))), timeout=20
        )
        assert [(status, len(page["items"])) for status, page in answers] == [(200, 1)] * 8
        assert len(await _audited(database, c.patient_id, "passport.read")) == 8
    finally:
        await engine.dispose()
