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
from collections.abc import Callable, Sequence
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
    """One row as the database holds it, in the shape the walk reads.

    ``payload`` is the previous hash followed by the stored document, as UTF-8 bytes:
    exactly what the entry's hash covers. Rows may carry more fields after these four (the
    ledger's own columns), for a :data:`Binding` to check. Chains are walked by the
    thousand, so the walk takes plain tuples of this shape as well.
    """

    seq: int
    prev_hash: str
    payload: bytes
    hash: str


# The first row whose own columns do not say what its document says, or None. Reads filter
# and link by such columns, so a column changed without its document must show. It looks at
# all rows in one call: a check per row through a function call costs as much as hashing.
Binding = Callable[[Sequence[Sequence[Any]]], Sequence[Any] | None]


def stored(seq: int, prev_hash: str, document: str, digest: str) -> StoredEntry:
    """A row from its text columns (tests, tools)."""
    return StoredEntry(seq, prev_hash, (prev_hash + document).encode("utf-8"), digest)


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
    ledger: str,
    key: str,
    rows: Sequence[Sequence[Any]],
    checkpoint: Head | None = None,
    unbound: Binding | None = None,
) -> ChainReport:
    """Re-walk one chain in ``seq`` order and name its first bad entry, if any.

    ``rows`` are :class:`StoredEntry`-shaped tuples. Catches an edited document or hash
    (hash mismatch), an edited column (``unbound``), a deleted entry (gap in ``seq``), a
    reordered or inserted entry (broken link), and — with a checkpoint — a tail that was cut
    off or rewritten after the checkpoint was taken. The walk is plain CPU work: callers run
    long chains in a thread.
    """
    prev = genesis(ledger, key)
    expected = 1
    # The checkpointed entry's hash, noted as the walk passes it.
    at_checkpoint: str | None = None
    cp_seq = checkpoint.seq if checkpoint is not None else 0

    def bad(seq: int, problem: str) -> ChainReport:
        return ChainReport(
            ledger, key, expected - 1, expected - 1, prev, BadEntry(ledger, key, seq, None, problem)
        )

    # The loop runs once per entry ever written: plain indexing, the hash over stored bytes.
    # ``payload`` is ``prev_hash || document`` as stored; once ``prev_hash`` is known to be
    # the previous entry's 64-digit hash, the rest of the payload is the document itself.
    sha256 = hashlib.sha256
    mismatch = unbound(rows) if unbound is not None else None
    for row in rows:
        seq = row[0]
        if seq != expected:
            if seq > expected:
                return bad(expected, f"entry {expected} is missing (next is {seq})")
            return bad(seq, f"entry {seq} appears out of order or twice")
        if row[1] != prev:
            return bad(seq, "does not link to the entry before it")
        digest = row[3]
        if sha256(row[2]).hexdigest() != digest:
            return bad(seq, "content does not match its hash")
        if row is mismatch:
            return bad(seq, "its columns do not match its document")
        prev = digest
        if seq == cp_seq:
            at_checkpoint = digest
        expected += 1

    count = expected - 1
    if checkpoint is not None and checkpoint.seq > 0:
        if count < checkpoint.seq:
            first_missing = count + 1
            return bad(
                first_missing,
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
                    None,
                    "differs from the checkpoint: the chain was rewritten up to here",
                ),
            )
    return ChainReport(ledger, key, count, count, prev, None)
