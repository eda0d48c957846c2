"""Hash chains as pure rules: canonical documents, links, and the walk that verifies them.

An entry is stored as its canonical JSON document (sorted keys, no spaces, UTF-8) together
with the previous entry's hash and its own: ``hash = SHA-256(prev_hash || document)``. The
document is the record of truth (reads parse it), so verification needs no re-serialisation:
it hashes the stored bytes and follows the links. The first entry of a chain links to a
genesis value derived from the chain's name, so an entry copied from another chain does not
fit. Checkpoints (chain heads signed outside the database) catch a rewritten or cut tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple


def canonical(doc: dict[str, Any]) -> str:
    """The canonical JSON text of a document: sorted keys, compact, non-ASCII kept as is."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def genesis(ledger: str, key: str) -> str:
    """The 'previous hash' of a chain's first entry."""
    return hashlib.sha256(f"teleconsult:{ledger}:{key}".encode()).hexdigest()


def link(prev_hash: str, document: str) -> str:
    """An entry's hash: SHA-256 over the previous hash and the canonical document."""
    return hashlib.sha256(prev_hash.encode("ascii") + document.encode("utf-8")).hexdigest()


class StoredEntry(NamedTuple):
    """One row as the database holds it (a tuple: chains are walked by the thousand).

    ``prefix`` and ``suffix`` are what the canonical document must start and end with given
    the row's own columns (keys are sorted, so the first and last keys sit at fixed places);
    they bind the columns that reads rely on to the hashed document without parsing it.
    """

    id: str | None
    seq: int
    document: str
    prev_hash: str
    hash: str
    prefix: str = "{"
    suffix: str = "}"


@dataclass(frozen=True)
class BadEntry:
    """The first place where a chain stops being what was written."""

    ledger: str
    key: str
    seq: int
    entry_id: str | None
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "key": self.key,
            "seq": self.seq,
            "entry_id": self.entry_id,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class ChainReport:
    ledger: str
    key: str
    entries: int
    head_seq: int
    head_hash: str
    first_bad: BadEntry | None

    @property
    def ok(self) -> bool:
        return self.first_bad is None


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def walk(
    ledger: str, key: str, rows: Iterable[StoredEntry], checkpoint: Head | None = None
) -> ChainReport:
    """Re-walk one chain in ``seq`` order and name its first bad entry, if any.

    Catches an edited document or hash (hash mismatch), a deleted entry (gap in ``seq``), a
    reordered or inserted entry (broken link), and — with a checkpoint — a tail that was cut
    off or rewritten after the checkpoint was taken.
    """
    prev = genesis(ledger, key)
    expected = 1
    count = 0
    # The checkpointed entry's hash, noted as the walk passes it.
    at_checkpoint: str | None = None
    at_checkpoint_id: str | None = None
    cp_seq = checkpoint.seq if checkpoint is not None else 0

    def bad(seq: int, entry_id: str | None, problem: str) -> ChainReport:
        return ChainReport(
            ledger, key, count, expected - 1, prev, BadEntry(ledger, key, seq, entry_id, problem)
        )

    sha256 = hashlib.sha256  # the loop runs once per entry ever written: keep it lean
    for row in rows:
        document = row.document
        if row.seq != expected:
            if row.seq > expected:
                return bad(expected, None, f"entry {expected} is missing (next is {row.seq})")
            return bad(row.seq, row.id, f"entry {row.seq} appears out of order or twice")
        if row.prev_hash != prev:
            return bad(row.seq, row.id, "does not link to the entry before it")
        if sha256((prev + document).encode("utf-8")).hexdigest() != row.hash:
            return bad(row.seq, row.id, "content does not match its hash")
        if not (document.startswith(row.prefix) and document.endswith(row.suffix)):
            return bad(row.seq, row.id, "its columns do not match its document")
        prev = row.hash
        if row.seq == cp_seq:
            at_checkpoint, at_checkpoint_id = row.hash, row.id
        count += 1
        expected += 1

    if checkpoint is not None and checkpoint.seq > 0:
        if count < checkpoint.seq:
            first_missing = count + 1
            return bad(
                first_missing,
                None,
                f"entries {first_missing}..{checkpoint.seq} were cut off after the checkpoint",
            )
        if at_checkpoint != checkpoint.hash:
            return ChainReport(
                ledger,
                key,
                count,
                count,
                prev,
                BadEntry(
                    ledger,
                    key,
                    checkpoint.seq,
                    at_checkpoint_id,
                    "differs from the checkpoint: the chain was rewritten up to here",
                ),
            )
    return ChainReport(ledger, key, count, count, prev, None)
