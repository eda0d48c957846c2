"""Tampering with the stored chains directly in the database: verify must name the first bad
entry every time, and never raise a false alarm on an untouched database."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from teleconsult.cli import main
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.engine import make_sessionmaker
from teleconsult.ledger import verify
from teleconsult.ledger.chain import canonical, link
from teleconsult.ledger.pieces import Pieces, worker_pool
from teleconsult.ledger.verify import run_checkpoint, run_verify

from ..conftest import Database
from .passport_support import Clinic, clinic, grant, note, restore_guards, without_guards

Tamper = Callable[[AsyncConnection, str], Awaitable[None]]


async def _written(client: Any, database: Database, clock: FakeClock, n: int = 6) -> Clinic:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    for i in range(1, n + 1):
        status, body = await note(c.w.specialist, c.consultation_id, f"observation {i}")
        assert status == 201, body
    return c


async def _tamper(database: Database, change: Tamper, patient_id: str) -> None:
    async with database.engine.begin() as conn:
        saved = await without_guards(conn, database.backend)
        await change(conn, patient_id)
        await restore_guards(conn, saved)


def _pid(patient_id: str) -> Any:
    # SQLite keeps UUIDs as 32 hex digits, PostgreSQL as uuid; both accept their own form.
    return uuid.UUID(patient_id)


async def _rows(conn: AsyncConnection, patient_id: str) -> list[Any]:
    return list(
        (
            await conn.execute(
                text(
                    "SELECT id, seq, document, prev_hash, hash FROM passport_entries "
                    "WHERE patient_id = :p ORDER BY seq"
                ),
                {"p": _db_uuid(conn, patient_id)},
            )
        ).all()
    )


def _db_uuid(conn: AsyncConnection, value: str) -> Any:
    return uuid.UUID(value) if conn.dialect.name == "postgresql" else uuid.UUID(value).hex


async def _exec(conn: AsyncConnection, sql: str, patient_id: str, **params: Any) -> None:
    await conn.execute(text(sql), {"p": _db_uuid(conn, patient_id), **params})


async def edit(conn: AsyncConnection, p: str) -> None:
    await _exec(
        conn,
        "UPDATE passport_entries SET document = replace(document, 'observation 3', "
        "'observation 9') WHERE patient_id = :p AND seq = 3",
        p,
    )


async def delete(conn: AsyncConnection, p: str) -> None:
    await _exec(conn, "DELETE FROM passport_entries WHERE patient_id = :p AND seq = 3", p)


async def reorder(conn: AsyncConnection, p: str) -> None:
    for a, b in ((3, -1), (4, 3), (-1, 4)):
        await _exec(
            conn,
            "UPDATE passport_entries SET seq = :b WHERE patient_id = :p AND seq = :a",
            p,
            a=a,
            b=b,
        )


async def insert(conn: AsyncConnection, p: str) -> None:
    """A well-forged entry slipped in at position 3 (correct hash, linked to entry 2)."""
    rows = await _rows(conn, p)
    await _exec(
        conn, "UPDATE passport_entries SET seq = seq + 1000 WHERE patient_id = :p AND seq >= 3", p
    )
    await _exec(
        conn, "UPDATE passport_entries SET seq = seq - 999 WHERE patient_id = :p AND seq >= 1000", p
    )
    forged = json.loads(rows[2].document)
    forged.update(id=str(uuid.uuid4()), seq=3, body={"text": "forged", "diagnoses": []})
    document = canonical(forged)
    await _exec(
        conn,
        "INSERT INTO passport_entries (id, patient_id, seq, kind, document, prev_hash, hash) "
        "VALUES (:id, :p, 3, 'note', :d, :prev, :h)",
        p,
        id=_db_uuid(conn, forged["id"]),
        d=document,
        prev=rows[1].hash,
        h=link(rows[1].hash, document),
    )


async def append_forged(conn: AsyncConnection, p: str) -> None:
    """An entry added at the end whose hash was made up."""
    rows = await _rows(conn, p)
    forged = json.loads(rows[-1].document)
    forged.update(id=str(uuid.uuid4()), seq=7)
    await _exec(
        conn,
        "INSERT INTO passport_entries (id, patient_id, seq, kind, document, prev_hash, hash) "
        "VALUES (:id, :p, 7, 'note', :d, :prev, :h)",
        p,
        id=_db_uuid(conn, forged["id"]),
        d=canonical(forged),
        prev=rows[-1].hash,
        h="0" * 64,
    )


async def truncate(conn: AsyncConnection, p: str) -> None:
    await _exec(conn, "DELETE FROM passport_entries WHERE patient_id = :p AND seq >= 5", p)


async def rewrite(conn: AsyncConnection, p: str) -> None:
    """Edit entry 3 and recompute every later hash: only the checkpoint can tell."""
    rows = await _rows(conn, p)
    prev = rows[1].hash
    for row in rows[2:]:
        doc = json.loads(row.document)
        if doc["seq"] == 3:
            doc["body"]["text"] = "observation 9"
        document = canonical(doc)
        digest = link(prev, document)
        await _exec(
            conn,
            "UPDATE passport_entries SET document = :d, prev_hash = :prev, hash = :h "
            "WHERE patient_id = :p AND seq = :s",
            p,
            d=document,
            prev=prev,
            h=digest,
            s=row.seq,
        )
        prev = digest


async def relabel(conn: AsyncConnection, p: str) -> None:
    """A column that reads filter by, changed without touching the hashed document."""
    await _exec(
        conn,
        "UPDATE passport_entries SET kind = 'lab_result' WHERE patient_id = :p AND seq = 2",
        p,
    )


async def reassign(conn: AsyncConnection, p: str) -> None:
    """An entry's id column changed: corrections find entries by it."""
    await _exec(
        conn,
        "UPDATE passport_entries SET id = :new WHERE patient_id = :p AND seq = 2",
        p,
        new=_db_uuid(conn, str(uuid.uuid4())),
    )


async def reattach(conn: AsyncConnection, p: str) -> None:
    """An entry made to look like a correction of another, in its column only."""
    rows = await _rows(conn, p)
    await _exec(
        conn,
        "UPDATE passport_entries SET amends = :a WHERE patient_id = :p AND seq = 2",
        p,
        a=rows[0].id,
    )


async def relink(conn: AsyncConnection, p: str) -> None:
    """A previous-hash column pointed elsewhere (the entry's own hash left alone)."""
    rows = await _rows(conn, p)
    await _exec(
        conn,
        "UPDATE passport_entries SET prev_hash = :prev WHERE patient_id = :p AND seq = 4",
        p,
        prev=rows[1].hash,
    )


async def shift(conn: AsyncConnection, p: str) -> None:
    """The end of the previous-hash column moved to the front of the document: the bytes
    the hash covers are unchanged, the stored columns are not."""
    await _exec(
        conn,
        "UPDATE passport_entries SET document = substr(prev_hash, 61) || document, "
        "prev_hash = substr(prev_hash, 1, 60) WHERE patient_id = :p AND seq = 3",
        p,
    )


CASES = [
    (edit, 3, "content does not match its hash"),
    (delete, 3, "entry 3 is missing"),
    (reorder, 3, "does not link"),
    (insert, 4, "does not link"),
    (append_forged, 7, "content does not match its hash"),
    (truncate, 5, "cut off after the checkpoint"),
    (rewrite, 6, "differs from the checkpoint"),
    (relabel, 2, "columns do not match its document"),
    (reassign, 2, "columns do not match its document"),
    (reattach, 2, "columns do not match its document"),
    (relink, 4, "does not link"),
    (shift, 3, "does not link"),
]


@pytest.fixture(scope="module")
def piece_pool() -> Iterator[ProcessPoolExecutor]:
    pool = worker_pool(3)
    yield pool
    pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("in_pieces", [False, True], ids=["one walk", "in pieces"])
@pytest.mark.parametrize(
    ("change", "first_bad_seq", "problem"), CASES, ids=[c[0].__name__ for c in CASES]
)
async def test_verify_names_the_first_bad_entry(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    request: pytest.FixtureRequest,
    change: Tamper,
    first_bad_seq: int,
    problem: str,
    in_pieces: bool,
) -> None:
    c = await _written(client, database, clock)
    sessions = make_sessionmaker(database.engine)
    # In pieces: every chain of two entries or more is walked as three pieces by three worker
    # processes, each over its own connection ([1, 2], [3, 4], [5, 6] for the passport).
    pieces = (
        Pieces(database.url, workers=3, min_entries=2, pool=request.getfixturevalue("piece_pool"))
        if in_pieces
        else None
    )
    ok, _, path = await run_checkpoint(sessions, settings, pieces)
    assert ok and path is not None

    await _tamper(database, change, c.patient_id)

    ok, reports = await run_verify(sessions, settings, pieces=pieces)
    if pieces is not None:
        assert pieces.pieces > pieces.chains >= 2  # both runs walked chains in pieces
    assert not ok
    bad = [r.first_bad for r in reports if r.first_bad is not None]
    assert len(bad) == 1, bad
    assert (bad[0].ledger, bad[0].key, bad[0].seq) == ("passport", c.patient_id, first_bad_seq)
    assert problem in bad[0].problem

    # The same answer over HTTP for this patient.
    status, verdict = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200, verdict
    assert verdict["ok"] is False
    assert verdict["first_bad"]["seq"] == first_bad_seq
    assert verdict["first_bad"]["ledger"] == "passport"


async def test_an_edited_audit_entry_is_caught(
    client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    c = await _written(client, database, clock, n=2)

    async def edit_audit(conn: AsyncConnection, p: str) -> None:
        await conn.execute(
            text(
                "UPDATE audit_entries SET document = replace(document, '\"deny\"', '\"permit\"')"
                " WHERE chain = :c AND seq = 1"
            ),
            {"c": p},
        )
        await conn.execute(
            text(
                "UPDATE audit_entries SET document = replace(document, 'consent', 'consent!')"
                " WHERE chain = :c AND seq = 2"
            ),
            {"c": p},
        )

    await _tamper(database, edit_audit, c.patient_id)
    ok, reports = await run_verify(make_sessionmaker(database.engine), settings)
    assert not ok
    bad = [r.first_bad for r in reports if r.first_bad is not None]
    assert [(b.ledger, b.key, b.seq) for b in bad] == [("audit", c.patient_id, 2)]


async def test_no_false_alarm_on_a_clean_database(
    client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    c = await _written(client, database, clock, n=3)
    sessions = make_sessionmaker(database.engine)
    ok, reports = await run_verify(sessions, settings)  # no checkpoint yet
    assert ok, [r.first_bad for r in reports]
    assert {r.ledger for r in reports} == {"passport", "audit"}
    ok, _, _ = await run_checkpoint(sessions, settings)
    assert ok
    # The chains keep growing after the checkpoint: still no alarm.
    for i in range(3):
        status, _ = await note(c.w.specialist, c.consultation_id, f"more {i}")
        assert status == 201
    ok, reports = await run_verify(sessions, settings)
    assert ok, [r.first_bad for r in reports]
    ok, _, _ = await run_checkpoint(sessions, settings)
    assert ok
    ok, reports = await run_verify(sessions, settings, uuid.UUID(c.patient_id))
    assert ok and [r.entries for r in reports if r.ledger == "passport"] == [6]
    status, verdict = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert verdict == {
        "ok": True,
        "entries": 6,
        "audit_entries": verdict["audit_entries"],
        "first_bad": None,
    }


def _lower_first_head(path: Path) -> None:
    payload = json.loads(path.read_text())
    first = next(iter(payload["heads"]["passport"]))
    payload["heads"]["passport"][first][0] = 0
    path.write_text(json.dumps(payload))


async def test_a_forged_checkpoint_file_is_refused(
    client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    await _written(client, database, clock, n=1)
    sessions = make_sessionmaker(database.engine)
    _, _, path = await run_checkpoint(sessions, settings)
    assert path is not None
    await asyncio.to_thread(_lower_first_head, Path(path))
    ok, reports = await run_verify(sessions, settings)
    assert not ok
    assert "invalid signature" in reports[0].first_bad.problem  # type: ignore[union-attr]


async def test_command_line_checkpoint_and_verify(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = await _written(client, database, clock, n=4)
    monkeypatch.setenv("TELECONSULT_DATABASE_URL", database.url)
    monkeypatch.setenv("TELECONSULT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TELECONSULT_ENV", "test")

    assert await asyncio.to_thread(main, ["checkpoint"]) == 0
    assert await asyncio.to_thread(main, ["verify"]) == 0
    assert "ok:" in capsys.readouterr().out

    await _tamper(database, delete, c.patient_id)
    assert await asyncio.to_thread(main, ["verify", "--patient", c.patient_id]) == 1
    captured = capsys.readouterr()
    assert f"BAD  passport {c.patient_id}: entry 3" in captured.err
    assert "FAILED" in captured.out
    # A checkpoint is never written over a broken chain.
    assert await asyncio.to_thread(main, ["checkpoint"]) == 1


async def test_a_write_goes_through_while_verify_walks(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Verify only reads, on reader connections: a passport write made while it is in the
    middle of its walk does not wait for it (on SQLite a transaction of verify's own would
    hold the database lock to the end)."""
    c = await _written(client, database, clock, n=2)
    walking, written = asyncio.Event(), asyncio.Event()
    read_chains = verify.stored_chains

    async def read_then_wait(*args: Any) -> Any:
        chains = await read_chains(*args)
        walking.set()
        await written.wait()
        return chains

    monkeypatch.setattr(verify, "stored_chains", read_then_wait)
    verifying = asyncio.create_task(run_verify(make_sessionmaker(database.engine), settings))
    await asyncio.wait_for(walking.wait(), timeout=10)
    try:
        status, body = await asyncio.wait_for(
            note(c.w.specialist, c.consultation_id, "written during verify"), timeout=10
        )
    finally:
        written.set()
    assert status == 201, body
    ok, reports = await verifying
    assert ok, [r.first_bad for r in reports]


async def test_verify_walks_chains_itself_when_its_workers_are_gone(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    c = await _written(client, database, clock, n=4)
    pool = worker_pool(1)
    try:
        # The worker process dies: the pool can take no more work.
        with pytest.raises(BrokenProcessPool):
            await asyncio.get_running_loop().run_in_executor(pool, os._exit, 1)
        pieces = Pieces(database.url, workers=2, min_entries=2, pool=pool)
        sessions = make_sessionmaker(database.engine)
        ok, reports = await run_verify(sessions, settings, pieces=pieces)
        assert ok, [r.first_bad for r in reports]
        assert pieces.chains == 0 and "walking chains in this process" in caplog.text
        # ... and a chain that was tampered with still shows, walked in this process.
        await _tamper(database, delete, c.patient_id)
        ok, reports = await run_verify(sessions, settings, pieces=pieces)
        assert [(r.key, r.first_bad.seq) for r in reports if r.first_bad] == [(c.patient_id, 3)]
        assert "walking chains in this process" in caplog.text
    finally:
        pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("batch", [1, 2, 500])
async def test_short_chains_read_by_the_batch_are_each_reported(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
) -> None:
    """Verify reads short chains many at a time: each still gets its own report, a broken
    one among clean ones, and one the database lost entirely."""
    monkeypatch.setattr(verify, "BATCH", batch)
    # Workers at hand, as the command line has them: these chains are too short for pieces.
    pieces = Pieces(database.url)
    c = await _written(client, database, clock, n=4)
    sessions = make_sessionmaker(database.engine)
    ok, _, _ = await run_checkpoint(sessions, settings, pieces)
    assert ok
    ok, reports = await run_verify(sessions, settings, pieces=pieces)
    assert ok and len(reports) >= 3
    assert pieces.chains == 0
    assert [r.key for r in reports] == sorted(
        r.key for r in reports if r.ledger == "passport"
    ) + sorted(r.key for r in reports if r.ledger == "audit")

    await _tamper(database, delete, c.patient_id)
    ok, reports = await run_verify(sessions, settings, pieces=pieces)
    bad = [(r.ledger, r.key, r.first_bad.seq) for r in reports if r.first_bad is not None]
    assert bad == [("passport", c.patient_id, 3)]
    assert sum(r.ok for r in reports) == len(reports) - 1

    async def lose_all(conn: AsyncConnection, p: str) -> None:
        await _exec(conn, "DELETE FROM passport_entries WHERE patient_id = :p", p)

    await _tamper(database, lose_all, c.patient_id)
    ok, reports = await run_verify(sessions, settings, pieces=pieces)
    [lost] = [r for r in reports if r.first_bad is not None]
    assert (lost.key, lost.entries, lost.first_bad.seq) == (c.patient_id, 0, 1)  # type: ignore[union-attr]
    assert "cut off" in lost.first_bad.problem  # type: ignore[union-attr]
    pieces.close()
