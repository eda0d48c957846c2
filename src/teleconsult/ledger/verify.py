"""Re-walking every chain and comparing it with the newest checkpoint (``teleconsult verify``,
``teleconsult checkpoint``, and one patient's chains for the passport's verify endpoint)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..db.engine import make_engine, make_sessionmaker, readers
from ..files.store import BlobStore, problem, store_for
from ..passport.models import PassportEntry
from .chain import BadEntry, ChainReport, Head, join, walk
from .checkpoint import Checkpoint, CheckpointInvalid, load_latest, write_checkpoint
from .pieces import Pieces
from .store import chain_lengths, entry_id, last_seq, stored_chains, stored_entries
from .tables import LEDGERS, PASSPORT, Ledger

log = logging.getLogger(__name__)

# Short chains are read this many at a time (one query), then walked in a worker thread.
BATCH = 500
# Chains at least this long are walked in a worker thread (shorter ones cost less than the
# hand-over).
IN_THREAD = 500


async def verify_chain(
    session: AsyncSession,
    ledger: Ledger,
    key: str,
    checkpoint: Checkpoint | None,
    pieces: Pieces | None = None,
    length: int | None = None,
) -> ChainReport:
    """Walk one chain against its checkpointed head, if it has one; a long chain in pieces
    over worker processes when ``pieces`` is given. ``length`` is the chain's highest seq,
    when the caller knows it already."""
    head = checkpoint.head(ledger.name, key) if checkpoint is not None else None
    ranges = None
    if pieces is not None:
        ranges = pieces.split(
            length if length is not None else await last_seq(session, ledger, key)
        )
    report = None
    if pieces is not None and ranges is not None:
        try:
            segments = await pieces.walk(ledger, key, ranges, head.seq if head is not None else 0)
            report = join(ledger.name, key, segments, head)
        except BrokenProcessPool:
            # Pieces only make verify faster: without workers, the chain is walked here.
            log.warning("verify's worker processes stopped; walking chains in this process")
            pieces.stop_using()
    if report is None:
        rows = await stored_entries(session, ledger, key)
        binds = ledger.binding(key, session.get_bind().dialect.name == "sqlite")
        if len(rows) < IN_THREAD:
            report = walk(ledger.name, key, rows, head, binds)
        else:
            # Hashing a lifelong chain is CPU work: keep the event loop free.
            report = await asyncio.to_thread(walk, ledger.name, key, rows, head, binds)
    return await _named(session, ledger, report)


async def _named(session: AsyncSession, ledger: Ledger, report: ChainReport) -> ChainReport:
    """The report with its first bad entry's id, if there is one."""
    bad = report.first_bad
    if bad is None or bad.entry_id is not None:
        return report
    named = replace(bad, entry_id=await entry_id(session, ledger, report.key, bad.seq))
    return replace(report, first_bad=named)


async def verify_chains(
    session: AsyncSession,
    checkpoint: Checkpoint | None,
    *,
    patient_id: uuid.UUID | None = None,
    pieces: Pieces | None = None,
) -> list[ChainReport]:
    """Every chain (or one patient's two chains), including chains the checkpoint knows
    but the database has lost entirely."""
    reports = []
    for ledger in LEDGERS:
        if patient_id is not None:
            reports.append(await verify_chain(session, ledger, str(patient_id), checkpoint, pieces))
            continue
        lengths = await chain_lengths(session, ledger)
        known = set(lengths)
        if checkpoint is not None:
            known |= set(checkpoint.heads.get(ledger.name, {}))
        # Long chains one by one, in pieces over the workers; the others read by the batch.
        found: list[ChainReport] = []
        batch: list[str] = []
        for key in known:
            length = lengths.get(key, 0)
            if pieces is not None and pieces.split(length) is not None:
                found.append(await verify_chain(session, ledger, key, checkpoint, pieces, length))
            else:
                batch.append(key)
        for start in range(0, len(batch), BATCH):
            keys = batch[start : start + BATCH]
            found += await verify_batch(session, ledger, keys, checkpoint)
        reports += sorted(found, key=lambda report: report.key)
    return reports


async def verify_batch(
    session: AsyncSession, ledger: Ledger, keys: list[str], checkpoint: Checkpoint | None
) -> list[ChainReport]:
    """Walk many short chains read in one query, in a worker thread."""
    chains = await stored_chains(session, ledger, keys)
    sqlite = session.get_bind().dialect.name == "sqlite"

    def walk_all() -> list[ChainReport]:
        return [
            walk(
                ledger.name,
                key,
                chains[key],
                checkpoint.head(ledger.name, key) if checkpoint is not None else None,
                ledger.binding(key, sqlite),
            )
            for key in keys
        ]

    reports = await asyncio.to_thread(walk_all)
    return [await _named(session, ledger, report) for report in reports]


async def check_restored(url: str) -> tuple[bool, dict[str, Any]]:
    """Walk every chain of a restored copy that is not installed yet (``db.backup.restore``
    stages a backup at ``url`` first): whether all verify from their first entry, and a
    report of what was walked and what fails (JSON-ready). No checkpoint is consulted: a
    backup older than the newest checkpoint is sound, only shorter."""
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(readers(engine))() as session:
            reports = await verify_chains(session, None)
    finally:
        await engine.dispose()
    return all(r.ok for r in reports), restore_report(reports)


def restore_report(reports: Sequence[ChainReport]) -> dict[str, Any]:
    broken = [r.first_bad for r in reports if r.first_bad is not None]
    return {
        "chains": len(reports),
        "entries": sum(r.entries for r in reports),
        "broken": [
            {
                "ledger": bad.ledger,
                "chain": bad.key,
                "seq": bad.seq,
                "entry_id": bad.entry_id,
                "problem": bad.problem,
            }
            for bad in broken
        ],
    }


async def verify_files(
    session: AsyncSession, store: BlobStore, patient_id: uuid.UUID | None = None
) -> list[ChainReport]:
    """Every file a passport entry carries the hash of: present in the blob store, and
    unchanged. One report per entry whose file is missing or changed (none when all are)."""
    stmt = select(
        PassportEntry.patient_id, PassportEntry.seq, PassportEntry.id, PassportEntry.document
    ).where(PassportEntry.kind == "attachment")
    if patient_id is not None:
        stmt = stmt.where(PassportEntry.patient_id == patient_id)
    reports = []
    for key, seq, entry, document in (
        await session.execute(stmt.order_by(PassportEntry.seq))
    ).all():
        body = json.loads(document).get("body") or {}
        sha256 = body.get("sha256")
        if not body.get("file_id") or not isinstance(sha256, str):
            continue
        wrong = await problem(store, session, sha256)
        if wrong is None:
            continue
        name = body.get("name") or body.get("title") or "file"
        bad = BadEntry(PASSPORT.name, str(key), seq, str(entry), f"file {name!r} is {wrong}")
        reports.append(ChainReport(PASSPORT.name, str(key), 0, 0, "", bad))
    return reports


def checkpoint_problem(exc: CheckpointInvalid) -> ChainReport:
    """A report that says the newest checkpoint cannot be trusted."""
    return ChainReport("checkpoint", "-", 0, 0, "", BadEntry("checkpoint", "-", 0, None, str(exc)))


# --- command line --------------------------------------------------------------------------


async def run_verify(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    patient_id: uuid.UUID | None = None,
    pieces: Pieces | None = None,
) -> tuple[bool, list[ChainReport]]:
    """Verify every chain (or one patient's) against the newest checkpoint; long chains in
    pieces over worker processes when ``pieces`` is given."""
    try:
        checkpoint = load_latest(settings.data_dir, settings.secret_key)
    except CheckpointInvalid as exc:
        return False, [checkpoint_problem(exc)]
    # Verification only reads: on reader connections it holds no lock while it walks (on
    # SQLite a unit of work's transaction would keep every writer waiting until the end).
    async with sessionmaker(bind=readers(sessionmaker.kw["bind"])) as session:
        reports = await verify_chains(session, checkpoint, patient_id=patient_id, pieces=pieces)
        reports += await verify_files(session, store_for(settings, session), patient_id)
    return all(r.ok for r in reports), reports


async def run_checkpoint(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    pieces: Pieces | None = None,
) -> tuple[bool, list[ChainReport], str | None]:
    """Verify first (a checkpoint must never bless a broken chain), then record every head."""
    ok, reports = await run_verify(sessionmaker, settings, pieces=pieces)
    if not ok:
        return False, reports, None
    heads: dict[str, dict[str, Head]] = {}
    for report in reports:
        if report.entries:
            heads.setdefault(report.ledger, {})[report.key] = Head(
                report.head_seq, report.head_hash
            )
    path = write_checkpoint(settings.data_dir, settings.secret_key, heads, datetime.now(UTC))
    return True, reports, str(path)


def describe(report: ChainReport) -> str:
    bad = report.first_bad
    if bad is None:
        return f"ok   {report.ledger} {report.key}: {report.entries} entries"
    where = f"entry {bad.seq}" + (f" ({bad.entry_id})" if bad.entry_id else "")
    return f"BAD  {bad.ledger} {bad.key}: {where}: {bad.problem}"
