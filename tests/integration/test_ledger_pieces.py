"""Long chains walked in pieces by worker processes, on both engines, as ``teleconsult
verify`` walks them: a clean chain gives the report one walk in this process gives, and
every kind of tampering is named at the same entry, wherever it falls among the pieces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from sqlalchemy import insert, text

from teleconsult.db.engine import make_sessionmaker, readers
from teleconsult.ledger.chain import ChainReport, Head, canonical, genesis, link
from teleconsult.ledger.checkpoint import Checkpoint
from teleconsult.ledger.pieces import Pieces, worker_pool
from teleconsult.ledger.tables import PASSPORT
from teleconsult.ledger.verify import verify_chain

from ..conftest import Database
from .passport_support import restore_guards, without_guards

# Three pieces of 80 entries: [1, 80], [81, 160], [161, 240].
LENGTH = 240
WORKERS = 3


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    shared = worker_pool(WORKERS)
    yield shared
    shared.shutdown(cancel_futures=True)


def _pieces(database: Database, pool: ProcessPoolExecutor) -> Pieces:
    # The threshold lowered from 2,000 entries, so that these chains are cut into pieces.
    return Pieces(database.url, workers=WORKERS, min_entries=100, pool=pool)


async def _long_chain(database: Database) -> str:
    """A passport of LENGTH notes (one of them corrected), chained and written in bulk."""
    patient = uuid.uuid4()
    prev = genesis(PASSPORT.name, str(patient))
    rows = []
    ids: list[uuid.UUID] = []
    for seq in range(1, LENGTH + 1):
        entry = uuid.uuid4()
        amends = ids[9] if seq == 120 else None
        document = canonical(
            {
                "amends": str(amends) if amends is not None else None,
                "body": {"text": f"Визит {seq}: BP 150/95"},
                "id": str(entry),
                "kind": "note",
                "patient_id": str(patient),
                "seq": seq,
            }
        )
        digest = link(prev, document)
        rows.append(
            {"id": entry, "patient_id": patient, "seq": seq, "kind": "note", "amends": amends}
            | {"document": document, "prev_hash": prev, "hash": digest}
        )
        ids.append(entry)
        prev = digest
    async with database.engine.begin() as conn:
        await conn.execute(insert(PASSPORT.table), rows)
    return str(patient)


async def _verified(
    database: Database, key: str, pieces: Pieces | None, checkpoint: Checkpoint | None = None
) -> ChainReport:
    async with make_sessionmaker(readers(database.engine))() as session:
        return await verify_chain(session, PASSPORT, key, checkpoint, pieces)


async def _tamper(database: Database, key: str, sql: str) -> None:
    patient: Any = uuid.UUID(key)
    if database.backend == "sqlite":
        patient = patient.hex
    async with database.engine.begin() as conn:
        saved = await without_guards(conn, database.backend)
        await conn.execute(text(sql), {"p": patient})
        await restore_guards(conn, saved)


async def test_a_clean_long_chain_in_pieces_is_reported_as_one_walk(
    database: Database, pool: ProcessPoolExecutor
) -> None:
    key = await _long_chain(database)
    pieces = _pieces(database, pool)
    in_pieces = await _verified(database, key, pieces)
    assert (pieces.chains, pieces.pieces) == (1, WORKERS)  # walked by the worker processes
    alone = await _verified(database, key, None)
    assert in_pieces == alone
    assert in_pieces.ok and in_pieces.entries == LENGTH
    # Against a checkpoint of its head: the piece that holds the checkpointed entry says so.
    async with database.engine.connect() as conn:
        head = (
            await conn.execute(
                text("SELECT hash FROM passport_entries WHERE patient_id = :p AND seq = 150"),
                {"p": uuid.UUID(key).hex if database.backend == "sqlite" else uuid.UUID(key)},
            )
        ).scalar_one()
    checkpoint = Checkpoint("now", {"passport": {key: Head(150, head)}})
    assert (await _verified(database, key, pieces, checkpoint)).ok


# (what was done, the first bad entry, what verify says), spread over the three pieces and
# their edges.
CASES = [
    (
        "UPDATE passport_entries SET document = replace(document, 'BP', 'bp')"
        " WHERE patient_id = :p AND seq = 130",
        130,
        "content does not match its hash",
    ),
    ("DELETE FROM passport_entries WHERE patient_id = :p AND seq = 81", 81, "is missing"),
    ("DELETE FROM passport_entries WHERE patient_id = :p AND seq = 80", 80, "is missing"),
    (
        "UPDATE passport_entries SET kind = 'diagnosis' WHERE patient_id = :p AND seq = 200",
        200,
        "columns do not match its document",
    ),
    (
        "UPDATE passport_entries SET amends = NULL WHERE patient_id = :p AND seq = 120",
        120,
        "columns do not match its document",
    ),
    (
        "UPDATE passport_entries SET prev_hash = hash WHERE patient_id = :p AND seq = 161",
        161,
        "does not link",
    ),
    (
        "UPDATE passport_entries SET hash = prev_hash WHERE patient_id = :p AND seq = 5",
        5,
        "content does not match its hash",
    ),
]


@pytest.mark.parametrize(("sql", "seq", "problem"), CASES)
async def test_tampering_anywhere_in_a_long_chain_is_named_by_the_pieces(
    database: Database, pool: ProcessPoolExecutor, sql: str, seq: int, problem: str
) -> None:
    key = await _long_chain(database)
    await _tamper(database, key, sql)
    pieces = _pieces(database, pool)
    in_pieces = await _verified(database, key, pieces)
    assert pieces.chains == 1 and pieces.pieces == WORKERS
    alone = await _verified(database, key, None)
    assert in_pieces.first_bad is not None and alone.first_bad is not None
    assert in_pieces.first_bad.seq == alone.first_bad.seq == seq
    assert problem in in_pieces.first_bad.problem
    assert in_pieces.first_bad.entry_id == alone.first_bad.entry_id


async def test_a_tail_cut_after_the_checkpoint_shows_in_pieces(
    database: Database, pool: ProcessPoolExecutor
) -> None:
    key = await _long_chain(database)
    pieces = _pieces(database, pool)
    clean = await _verified(database, key, pieces)
    checkpoint = Checkpoint("now", {"passport": {key: Head(clean.head_seq, clean.head_hash)}})
    await _tamper(database, key, "DELETE FROM passport_entries WHERE patient_id = :p AND seq > 230")
    report = await _verified(database, key, pieces, checkpoint)
    assert report.first_bad is not None and report.first_bad.seq == 231
    assert "cut off after the checkpoint" in report.first_bad.problem
    assert pieces.chains == 2
