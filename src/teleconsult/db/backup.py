"""``teleconsult backup`` and ``restore``: a consistent copy of the whole database, and back.

- SQLite: SQLite's online backup, page by page from a snapshot, while the server keeps
  serving; the copy is checked (``PRAGMA integrity_check``) before it takes its name.
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot of every table), restored with
  ``pg_restore --clean --single-transaction``: the restore lands whole or not at all.

Nothing is lost by a restore: the database it replaces is itself backed up first (the file
is moved aside on SQLite, dumped on PostgreSQL) and its path printed. A backup is written
under a temporary name, flushed to disk, then renamed: a crash leaves the previous backups
and never half a file under a backup's name. A restore refuses a running server: every
serving process holds a shared lock on ``DATA_DIR/serving.lock`` (:func:`serving`), which
a restore must be able to take alone; on PostgreSQL it also refuses while other sessions are
connected to the database, unless forced.

A backup is staged before it is installed (SQLite: a file beside the database; PostgreSQL:
a database of its own) and every passport and audit chain is walked there from its first
entry; a backup whose chains fail (tampered with after it was taken) is never installed: it
is kept under ``backups/refused-*`` with a JSON report beside it.

After a restore the chains are verified, and compared with the newest checkpoint: a backup
older than it leaves chains shorter than it recorded, which ``verify`` reports as cut off
until ``teleconsult checkpoint`` records the restored state (the older checkpoints stay).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from ..config import Settings

FOLDER = "backups"


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int


def default_path(settings: Settings, now: datetime, label: str = "teleconsult") -> Path:
    sqlite = make_url(settings.effective_database_url).get_backend_name() == "sqlite"
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return settings.data_dir / FOLDER / f"{label}-{stamp}.{'db' if sqlite else 'dump'}"


async def backup(settings: Settings, output: Path | None = None) -> Backup:
    """Copy the whole database to ``output`` (default: a new file under the data folder)."""
    url = make_url(settings.effective_database_url)
    target = output or default_path(settings, datetime.now(UTC))
    part = await asyncio.to_thread(_part_for, target)
    try:
        if url.get_backend_name() == "sqlite":
            await asyncio.to_thread(_sqlite_copy, _sqlite_path(url), part)
            await asyncio.to_thread(_carry_files, part, settings.data_dir / FILES)
        else:
            await _run(["pg_dump", "--format=custom", f"--file={part}"], url)
        return await asyncio.to_thread(_durable_rename, part, target)
    finally:
        await asyncio.to_thread(part.unlink, missing_ok=True)


LOCK = "serving.lock"


@contextmanager
def serving(data_dir: Path) -> Iterator[None]:
    """Held by every serving process for as long as it serves (shared: workers side by side);
    a restore that cannot take it alone refuses."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _nobody_serving(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a server is running on {data_dir}; stop it before restoring"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# Walks every chain of a staged copy at a database URL: (all sound, a JSON-ready report).
# ``ledger.verify.check_restored`` (the ledger sits above this module, so it is handed in).
Check = Callable[[str], Awaitable[tuple[bool, dict[str, Any]]]]


class RestoreRefused(BackupError):
    """A backup whose chains fail verification: it was staged, walked, and not installed;
    it is left aside (``kept``) with a JSON report (``report``)."""

    def __init__(self, message: str, kept: Path, report: Path) -> None:
        super().__init__(message)
        self.kept = kept
        self.report = report


async def restore(settings: Settings, source: Path, *, check: Check, force: bool = False) -> Backup:
    """Replace the database with the backup ``source``; the database it replaced is kept,
    and returned. Refuses, changing nothing, a file that is not a sound backup, a running
    server, and on PostgreSQL other connected sessions (unless ``force``).

    The backup is first staged (SQLite: a file beside the database; PostgreSQL: a database
    of its own) and ``check`` walks every chain there; a backup whose chains fail is not
    installed: it is left aside with a JSON report (:class:`RestoreRefused`).
    """
    url = make_url(settings.effective_database_url)
    now = datetime.now(UTC)
    with _nobody_serving(settings.data_dir):
        if url.get_backend_name() == "sqlite":
            return await _sqlite_restore(_sqlite_path(url), source, settings, now, check)
        if not force:
            await _refuse_other_sessions(url)
        return await _postgres_restore(settings, url, source, now, check)


async def _checked(staged_url: str, check: Check) -> tuple[bool, dict[str, Any]]:
    try:
        return await check(staged_url)
    except Exception as exc:  # a copy that cannot even be walked is refused
        return False, {"chains": 0, "entries": 0, "broken": [], "error": str(exc)}


def _set_aside(
    settings: Settings, source: Path, staged: Path, now: datetime, report: dict[str, Any]
) -> RestoreRefused:
    """Move the staged copy of a refused backup under the backups folder, a JSON report
    beside it; the error that says so."""
    kept = default_path(settings, now, "refused")
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(staged, kept)
    written = kept.with_suffix(".json")
    document = {
        "backup": str(source),
        "refused_at": now.isoformat(),
        "kept": str(kept),
        **report,
    }
    written.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    _fsync(written)
    _fsync(kept.parent)
    broken = report.get("broken") or []
    first = broken[0] if broken else None
    why = (
        f"{len(broken)} chain(s) fail verification, the first {first['ledger']} {first['chain']}"
        f" at entry {first['seq']}: {first['problem']}"
        if first is not None
        else f"its chains cannot be verified: {report.get('error', 'unknown error')}"
    )
    return RestoreRefused(
        f"{source} was not installed: {why}; it is kept in {kept}, the report in {written}",
        kept,
        written,
    )


async def _refuse_other_sessions(url: URL) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            others = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await engine.dispose()
    if others:
        raise BackupError(
            f"{others} other session(s) are connected to the database; stop the servers "
            "first (or restore with --force)"
        )


async def _admin(url: URL, statement: str) -> None:
    """One statement outside a transaction (CREATE / DROP DATABASE), from the maintenance
    database ``postgres``, so that the database being restored sees no extra session."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(
        url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _postgres_restore(
    settings: Settings, url: URL, source: Path, now: datetime, check: Check
) -> Backup:
    if not await asyncio.to_thread(source.is_file):
        raise BackupError(f"{source}: no such file")
    await _run(["pg_restore", "--list", str(source)], url, database=False)
    # A private copy: what is installed is exactly what was checked.
    staged = default_path(settings, now, "restoring")
    await asyncio.to_thread(_private_copy, source, staged)
    try:
        name = f"{url.database}_restoring_{uuid.uuid4().hex[:8]}"
        staging = url.set(database=name)
        await _admin(url, f'CREATE DATABASE "{name}"')
        try:
            loading = ["--no-owner", "--single-transaction", "--exit-on-error"]
            await _run(["pg_restore", *loading, str(staged)], staging)
            ok, report = await _checked(staging.render_as_string(hide_password=False), check)
        finally:
            await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not ok:
            raise await asyncio.to_thread(_set_aside, settings, source, staged, now, report)
        kept = await backup(settings, default_path(settings, now, "before-restore"))
        restoring = [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
        ]
        await _run(["pg_restore", *restoring, str(staged)], url)
        return kept
    finally:
        await asyncio.to_thread(staged.unlink, missing_ok=True)


def _private_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _part_for(target: Path) -> Path:
    """Where a backup is written before it takes its name (which it never overwrites)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"{target} already exists; a backup never overwrites a file")
    return target.with_name(target.name + ".part")


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is not a file")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup of ``source`` into ``target``: one file (no write-ahead log
    beside it), checked, and on disk."""
    if not source.is_file():
        raise BackupError(f"{source}: no database there")
    with closing(_open(source, "rw")) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        _check_sqlite(dst, target)
    _fsync(target)


def _open(path: Path, mode: str) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot be opened: {exc}") from None


def _check_sqlite(db: sqlite3.Connection, path: Path) -> None:
    try:
        result = db.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a Teleconsult database: {exc}") from None
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")
    if not {"alembic_version", "passport_entries", "audit_entries"} <= tables:
        raise BackupError(f"{path} is not a Teleconsult database")


async def _sqlite_restore(
    database: Path, source: Path, settings: Settings, now: datetime, check: Check
) -> Backup:
    if not await asyncio.to_thread(source.is_file):
        raise BackupError(f"{source}: no such file")

    def sound() -> None:
        with closing(_open(source, "ro")) as db:
            _check_sqlite(db, source)

    await asyncio.to_thread(sound)
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(database.name + ".restoring")
    incoming.unlink(missing_ok=True)
    try:
        # Staged beside the database (a copy of its own: what is installed is what was
        # walked), every chain walked there, and only then installed.
        await asyncio.to_thread(_sqlite_copy, source, incoming)
        staged_url = URL.create("sqlite+aiosqlite", database=str(incoming)).render_as_string()
        ok, report = await _checked(staged_url, check)
        if not ok:
            raise await asyncio.to_thread(_set_aside, settings, source, incoming, now, report)
        await asyncio.to_thread(_unpack_files, incoming, settings.data_dir / FILES)
        return await asyncio.to_thread(_sqlite_install, database, incoming, settings, now)
    finally:
        incoming.unlink(missing_ok=True)


def _sqlite_install(database: Path, incoming: Path, settings: Settings, now: datetime) -> Backup:
    for suffix in ("-wal", "-shm"):
        # The walk closed its connections: no log of the staged copy is left beside it.
        Path(f"{incoming}{suffix}").unlink(missing_ok=True)
    kept = default_path(settings, now, "before-restore")
    kept.parent.mkdir(parents=True, exist_ok=True)
    if database.exists():
        # Fold the write-ahead log into the file first: the file moved aside is whole,
        # and no log of the old database is left for SQLite to apply to the new one.
        with closing(sqlite3.connect(database)) as old:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        shutil.move(database, kept)
        _fsync(kept.parent)
    _durable_rename(incoming, database)
    return Backup(kept, kept.stat().st_size if kept.exists() else 0)


# Uploaded files on SQLite live in the data directory, named by their SHA-256 (files/store.py);
# a backup carries them in its copy's ``file_blobs`` table, and a restore puts them back.
# (On PostgreSQL they are rows of that table already, and the dump carries them.)
FILES = "files"


def _carry_files(copy: Path, folder: Path) -> None:
    if not folder.is_dir():
        return
    with closing(sqlite3.connect(copy)) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'file_blobs'").fetchone():
            return
        for path in sorted(folder.glob("??/*")):
            if path.is_file() and not path.name.startswith("."):
                db.execute(
                    "INSERT OR IGNORE INTO file_blobs (sha256, data) VALUES (?, ?)",
                    (path.name, path.read_bytes()),
                )
        db.commit()
    _fsync(copy)


def _unpack_files(copy: Path, folder: Path) -> None:
    """Write the blobs a staged copy carries into the data directory (a file already there
    under its hash is the same file), then drop them from the copy."""
    with closing(sqlite3.connect(copy)) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'file_blobs'").fetchone():
            return
        for sha256, data in db.execute("SELECT sha256, data FROM file_blobs"):
            target = folder / sha256[:2] / sha256
            if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(f".{sha256}.restoring")
            part.write_bytes(data)
            _fsync(part)
            os.replace(part, target)
        db.execute("DELETE FROM file_blobs")
        db.commit()
    if folder.is_dir():
        _fsync(folder)


# --- PostgreSQL ------------------------------------------------------------------------------


async def _run(argv: list[str], url: URL, *, database: bool = True) -> None:
    """Run a PostgreSQL client program against ``url`` (the password goes by environment,
    never on a command line that ``ps`` shows)."""
    env = dict(os.environ)
    if database:
        if url.password is not None:
            env["PGPASSWORD"] = str(url.password)
        plain = url.set(drivername="postgresql", password=None).render_as_string()
        argv = [*argv, f"--dbname={plain}"]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        raise BackupError(f"{argv[0]} is not installed (Debian: postgresql-client)") from None
    _, err = await process.communicate()
    if process.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{argv[0]} failed: {message[-1] if message else process.returncode}")


# --- files -----------------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _durable_rename(part: Path, target: Path) -> Backup:
    _fsync(part)
    os.replace(part, target)
    _fsync(target.parent)
    return Backup(target, target.stat().st_size)
