"""``teleconsult backup`` / ``restore`` on both engines: the restored database holds what the
backup held, its chains verify, and the database a restore replaced is kept, never lost."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from teleconsult.cli import restore_cmd
from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.backup import BackupError, RestoreRefused, backup, restore, serving
from teleconsult.db.engine import make_engine, make_sessionmaker
from teleconsult.ledger.pieces import pieces_for
from teleconsult.ledger.verify import check_restored, run_checkpoint, verify_chains

from ..conftest import PG_URL_ENV, Database, make_settings
from .passport_support import Clinic, clinic, grant, note


@pytest.fixture
async def target(database: Database, tmp_path: Path) -> AsyncIterator[Settings]:
    """Where a restore goes: a database of its own, beside the one the test writes to."""
    if database.backend == "sqlite":
        yield make_settings(f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'db.sqlite'}", tmp_path)
        return
    base = os.environ[PG_URL_ENV]
    name = f"tc_restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        yield make_settings(url, tmp_path)
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _contents(url: str) -> tuple[list[str], int, bool]:
    """(usernames, passport entries, whether every chain verifies) of the database at url."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            users = sorted((await conn.execute(text("SELECT username FROM users"))).scalars())
            entries = (await conn.execute(text("SELECT count(*) FROM passport_entries"))).scalar()
        async with make_sessionmaker(engine)() as session:
            reports = await verify_chains(session, None)
    finally:
        await engine.dispose()
    return users, int(entries or 0), all(r.ok for r in reports) and bool(reports)


async def _notes(client: Any, database: Database, clock: FakeClock, *texts: str) -> Clinic:
    """A clinic whose specialist, with the patient's consent, wrote a note for each text."""
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    for text_ in texts:
        status, body = await note(c.w.specialist, c.consultation_id, text_)
        assert status == 201, body
    return c


async def test_a_restore_brings_back_what_the_backup_held_and_keeps_what_it_replaced(
    client: Any, database: Database, clock: FakeClock, settings: Settings, target: Settings
) -> None:
    c = await _notes(client, database, clock, "visit 0", "visit 1")
    first = await backup(settings)
    assert first.path.is_file() and first.size > 0
    with pytest.raises(BackupError, match="never overwrites"):
        await backup(settings, first.path)
    status, _ = await note(c.w.specialist, c.consultation_id, "after the first backup")
    assert status == 201
    second = await backup(settings)
    users, _, _ = await _contents(database.url)

    # Into a database that never held anything, then over it with the later backup.
    await restore(target, first.path, check=check_restored)
    assert await _contents(target.effective_database_url) == (users, 2, True)
    replaced = await restore(target, second.path, check=check_restored)
    assert await _contents(target.effective_database_url) == (users, 3, True)
    # What the second restore replaced is kept, whole: it restores to the two entries.
    assert replaced.path.is_file() and replaced.path.name.startswith("before-restore-")
    await restore(target, replaced.path, check=check_restored)
    assert await _contents(target.effective_database_url) == (users, 2, True)


async def test_a_restore_refuses_what_is_not_a_backup_and_changes_nothing(
    client: Any, database: Database, clock: FakeClock, settings: Settings, target: Settings
) -> None:
    await _notes(client, database, clock, "a visit")
    made = await backup(settings)
    await restore(target, made.path, check=check_restored)
    before = await _contents(target.effective_database_url)
    kept = sorted((target.data_dir / "backups").glob("before-restore-*"))

    junk = target.data_dir / "junk.bin"
    junk.write_bytes(os.urandom(4096))
    cut = target.data_dir / "cut.bin"
    cut.write_bytes(made.path.read_bytes()[: made.size // 2])
    for bad in (junk, cut, target.data_dir / "missing.db"):
        with pytest.raises(BackupError):
            await restore(target, bad, check=check_restored)
    assert await _contents(target.effective_database_url) == before
    assert sorted((target.data_dir / "backups").glob("before-restore-*")) == kept


async def test_restore_says_when_the_backup_is_older_than_the_newest_checkpoint(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    target: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = await _notes(client, database, clock, "a visit")
    made = await backup(settings)
    status, _ = await note(c.w.specialist, c.consultation_id, "written after the backup")
    assert status == 201
    async with pieces_for(settings.effective_database_url) as pieces:
        ok, _, path = await run_checkpoint(make_sessionmaker(database.engine), settings, pieces)
    assert ok and path is not None
    here = make_settings(target.effective_database_url, settings.data_dir)

    code = await restore_cmd(argparse.Namespace(backup=str(made.path), force=False), here)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok: " in out
    assert "end before the newest checkpoint" in out
    assert "teleconsult checkpoint" in out


async def test_a_backup_taken_while_notes_are_written_is_consistent(
    client: Any, database: Database, clock: FakeClock, settings: Settings, target: Settings
) -> None:
    c = await _notes(client, database, clock, "before the backup")

    async def write(i: int) -> None:
        status, body = await note(c.w.specialist, c.consultation_id, f"during the backup {i}")
        assert status == 201, body

    writes = asyncio.gather(*(write(i) for i in range(20)))
    made = await backup(settings)
    await writes
    await restore(target, made.path, check=check_restored)
    _, entries, intact = await _contents(target.effective_database_url)
    # A note without diagnoses is one entry. The copy holds the first note and those written
    # before its snapshot, each whole (with its audit entries), and every chain verifies.
    assert 1 <= entries <= 21
    assert intact


async def test_a_restore_refuses_a_running_server(
    client: Any, database: Database, clock: FakeClock, settings: Settings, target: Settings
) -> None:
    await _notes(client, database, clock, "Before the backup")
    copy = await backup(settings, settings.data_dir / "copy")
    with serving(target.data_dir), pytest.raises(BackupError, match="a server is running"):
        await restore(target, copy.path, check=check_restored)
    # Stopped, the same restore goes through.
    await restore(target, copy.path, check=check_restored)
    _, entries, intact = await _contents(target.effective_database_url)
    assert entries == 1 and intact


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_restore_refuses_while_other_sessions_are_connected(
    client: Any, database: Database, clock: FakeClock, settings: Settings, target: Settings
) -> None:
    await _notes(client, database, clock, "Before the backup")
    copy = await backup(settings, settings.data_dir / "copy")
    engine = make_engine(target.effective_database_url)
    try:
        async with engine.connect() as other:
            await other.execute(text("SELECT 1"))
            with pytest.raises(BackupError, match="other session"):
                await restore(target, copy.path, check=check_restored)
            # An operator who knows better may force it.
            await restore(target, copy.path, check=check_restored, force=True)
    finally:
        await engine.dispose()
    _, entries, intact = await _contents(target.effective_database_url)
    assert entries == 1 and intact


async def _tampered(database: Database, settings: Settings) -> Path:
    """A backup of the test's database after a note's text was edited in place, past the
    triggers that refuse it (what an edit of a backup's entry amounts to)."""
    edit = (
        "UPDATE passport_entries SET document = replace(document, 'visit 0', 'visit X')"
        " WHERE document LIKE '%visit 0%'"
    )
    async with database.engine.begin() as conn:
        if database.backend == "sqlite":
            triggers = (
                await conn.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                        " AND tbl_name = 'passport_entries'"
                    )
                )
            ).all()
            for name, _ in triggers:
                await conn.execute(text(f'DROP TRIGGER "{name}"'))
            changed = await conn.execute(text(edit))
            for _, sql in triggers:
                await conn.execute(text(sql))
        else:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            changed = await conn.execute(text(edit))
        assert changed.rowcount == 1
    return (await backup(settings, settings.data_dir / "tampered")).path


async def test_a_backup_tampered_after_it_was_taken_is_not_installed(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    target: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _notes(client, database, clock, "visit 0", "visit 1")
    made = await backup(settings)
    # The live database holds a sound restore.
    await restore(target, made.path, check=check_restored)
    live = await _contents(target.effective_database_url)
    assert live[1:] == (2, True)
    tampered = await _tampered(database, settings)
    kept = sorted((target.data_dir / "backups").glob("before-restore-*"))

    with pytest.raises(RestoreRefused) as refused:
        await restore(target, tampered, check=check_restored)
    # Not installed: the live data is what it was, nothing was moved aside for it.
    assert await _contents(target.effective_database_url) == live
    assert sorted((target.data_dir / "backups").glob("before-restore-*")) == kept
    # The refused copy is left aside with a report naming the broken chain.
    assert refused.value.kept.is_file() and refused.value.kept.name.startswith("refused-")
    report = json.loads(refused.value.report.read_text())
    assert report["backup"] == str(tampered)
    assert [b["ledger"] for b in report["broken"]] == ["passport"]
    assert report["broken"][0]["entry_id"] and report["broken"][0]["problem"]

    # The command says so and exits 1.
    code = await restore_cmd(argparse.Namespace(backup=str(tampered), force=False), target)
    err = capsys.readouterr().err
    assert code == 1
    assert "restore refused, the database is unchanged" in err
    assert "passport" in err and "report" in err
    assert await _contents(target.effective_database_url) == live

    # A sound backup still restores over it.
    await restore(target, made.path, check=check_restored)
    assert await _contents(target.effective_database_url) == live
