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
# all rows in one call, so that the walk makes no call per row for it.
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


@dataclass(frozen=True)
class Segment:
    """What walking a chain's entries from ``start`` on found: a whole chain, or one piece
    of a long chain that several processes walk at once (see :func:`join`)."""

    start: int
    # The seq of the first row read, and the previous hash that row names (None: no rows).
    first_seq: int | None
    links_to: str | None
    # How many entries from ``start`` on checked out, and the last one's hash.
    count: int
    head_hash: str | None
    # The hash of entry ``mark`` (the checkpointed one), if this walk passed it.
    marked: str | None
    # The first bad entry found inside: (seq, problem).
    bad: tuple[int, str] | None


def walk_segment(
    rows: Sequence[Sequence[Any]],
    start: int = 1,
    prev: str | None = None,
    mark: int = 0,
    unbound: Binding | None = None,
) -> Segment:
    """Walk rows that should be entries ``start``, ``start + 1``, ... in ``seq`` order.

    ``rows`` are :class:`StoredEntry`-shaped tuples. ``prev`` is the hash the first entry
    must link to; None leaves that link to :func:`join`, which knows the piece before.
    Catches an edited document or hash (hash mismatch), an edited column (``bound``), a
    deleted entry (gap in ``seq``), and a reordered or inserted entry (broken link).
    """
    mismatch = unbound(rows) if unbound is not None else None
    links_to = rows[0][1] if rows else None
    first_seq = rows[0][0] if rows else None
    if prev is None:
        prev = links_to
    expected = start
    marked: str | None = None

    def bad(seq: int, problem: str) -> Segment:
        count = expected - start
        return Segment(start, first_seq, links_to, count, prev, marked, (seq, problem))

    # The loop runs once per entry ever written: plain indexing, the hash over stored bytes.
    sha256 = hashlib.sha256
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
        if seq == mark:
            marked = digest
        expected += 1
    return Segment(start, first_seq, links_to, expected - start, prev, marked, None)


def join(
    ledger: str, key: str, segments: Sequence[Segment], checkpoint: Head | None = None
) -> ChainReport:
    """One chain's report from the walks of its consecutive pieces, in ``seq`` order.

    Each piece was walked on its own; here the pieces must meet: every piece starts where
    the one before stopped and links to its last hash, the first one to the chain's genesis.
    Then the chain is compared with its checkpoint: a tail cut off or rewritten after the
    checkpoint was taken shows here.
    """
    prev = genesis(ledger, key)
    count = 0
    marked: str | None = None

    def bad(seq: int, problem: str) -> ChainReport:
        return ChainReport(
            ledger, key, count, count, prev, BadEntry(ledger, key, seq, None, problem)
        )

    for segment in segments:
        if segment.first_seq is None and segment.bad is None:
            continue  # no rows at all in this piece: the next piece shows the gap
        if segment.start != count + 1:
            return bad(count + 1, f"entry {count + 1} is missing (next is {segment.first_seq})")
        if segment.first_seq == segment.start and segment.links_to != prev:
            return bad(segment.start, "does not link to the entry before it")
        if segment.marked is not None:
            marked = segment.marked
        if segment.bad is not None:
            if segment.count:
                count += segment.count
                prev = segment.head_hash or prev
            return bad(*segment.bad)
        count += segment.count
        prev = segment.head_hash or prev

    if checkpoint is not None and checkpoint.seq > 0:
        if count < checkpoint.seq:
            first_missing = count + 1
            return bad(
                first_missing,
                f"entries {first_missing}..{checkpoint.seq} were cut off after the checkpoint",
            )
        if marked != checkpoint.hash:
            return bad(
                checkpoint.seq, "differs from the checkpoint: the chain was rewritten up to here"
            )
    return ChainReport(ledger, key, count, count, prev, None)


def walk(
    ledger: str,
    key: str,
    rows: Sequence[Sequence[Any]],
    checkpoint: Head | None = None,
    unbound: Binding | None = None,
) -> ChainReport:
    """Re-walk one whole chain in ``seq`` order and name its first bad entry, if any.

    With a checkpoint it also catches a tail that was cut off or rewritten after the
    checkpoint was taken. The walk is plain CPU work: callers run long chains in a thread,
    or in pieces over several processes (:mod:`.pieces`).
    """
    mark = checkpoint.seq if checkpoint is not None else 0
    segment = walk_segment(rows, 1, genesis(ledger, key), mark, unbound)
    return join(ledger, key, [segment], checkpoint)
