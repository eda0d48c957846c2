from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from teleconsult.ledger.chain import (
    Head,
    Segment,
    StoredEntry,
    canonical,
    genesis,
    join,
    link,
    stored,
    walk,
    walk_segment,
)


def chain(n: int, key: str = "p1") -> list[StoredEntry]:
    rows = []
    prev = genesis("passport", key)
    for seq in range(1, n + 1):
        document = canonical({"seq": seq, "id": f"e{seq}", "body": {"text": f"entry {seq} ü"}})
        digest = link(prev, document)
        rows.append(stored(seq, prev, document, digest))
        prev = digest
    return rows


def test_canonical_json_sorts_keys_and_keeps_utf8() -> None:
    assert canonical({"b": 1, "a": {"d": "ä", "c": [2, 1]}}) == '{"a":{"c":[2,1],"d":"ä"},"b":1}'


def test_link_is_sha256_of_previous_hash_then_document() -> None:
    prev = "ab" * 32
    assert link(prev, '{"a":"ä"}') == hashlib.sha256((prev + '{"a":"ä"}').encode()).hexdigest()


def test_genesis_differs_per_chain() -> None:
    assert genesis("passport", "a") != genesis("passport", "b") != genesis("audit", "a")


def test_clean_chain_verifies_with_and_without_checkpoint() -> None:
    rows = chain(5)
    assert walk("passport", "p1", rows).ok
    assert walk("passport", "p1", rows, Head(3, rows[2].hash)).ok
    assert walk("passport", "p1", rows, Head(5, rows[4].hash)).ok
    assert walk("passport", "p1", []).ok


def test_each_kind_of_tampering_names_the_first_bad_entry() -> None:
    rows = chain(6)
    cp = Head(6, rows[5].hash)

    def first_bad(tampered: list[StoredEntry]) -> tuple[int, str]:
        report = walk("passport", "p1", tampered, cp)
        assert report.first_bad is not None
        return report.first_bad.seq, report.first_bad.problem

    changed = rows[2]._replace(payload=rows[2].payload.replace(b"entry 3", b"entry 9"))
    edited = [*rows[:2], changed, *rows[3:]]
    assert first_bad(edited) == (3, "content does not match its hash")
    assert first_bad(rows[:2] + rows[3:])[0] == 3
    swapped = [*rows[:2], rows[3]._replace(seq=3), rows[2]._replace(seq=4), *rows[4:]]
    assert first_bad(swapped) == (3, "does not link to the entry before it")
    assert first_bad(rows[:4])[0] == 5
    assert "cut off" in first_bad(rows[:4])[1]
    assert first_bad([])[0] == 1
    other_chain = chain(6, key="p2")
    assert first_bad([other_chain[0], *rows[1:]])[0] == 1
    duplicated = [*rows[:3], rows[2], *rows[3:]]
    assert first_bad(duplicated)[0] == 3


def test_a_recomputed_chain_differs_from_the_checkpoint() -> None:
    rows = chain(4)
    forged = []
    prev = genesis("passport", "p1")
    for row in rows:
        document = row.payload[64:].decode().replace("entry 2", "entry X")
        digest = link(prev, document)
        forged.append(stored(row.seq, prev, document, digest))
        prev = digest
    assert walk("passport", "p1", forged).ok  # self-consistent ...
    report = walk("passport", "p1", forged, Head(4, rows[3].hash))
    assert report.first_bad is not None and report.first_bad.seq == 4  # ... but not what was signed


@given(st.integers(0, 7), st.integers(0, 10_000), st.characters(codec="utf-8"))
def test_any_single_character_edit_is_detected(which: int, where: int, char: str) -> None:
    rows = chain(8)
    prev, doc = rows[which].prev_hash, rows[which].payload[64:].decode()
    at = where % len(doc)
    if doc[at] == char:
        return
    edited = (prev + doc[:at] + char + doc[at + 1 :]).encode()
    tampered = [*rows[:which], rows[which]._replace(payload=edited), *rows[which + 1 :]]
    report = walk("passport", "p1", tampered, Head(8, rows[7].hash))
    assert report.first_bad is not None and report.first_bad.seq == which + 1


def pieces(rows: list[StoredEntry], cuts: list[int], mark: int) -> list[Segment]:
    """Walk ``rows`` as consecutive seq ranges split before each seq in ``cuts``, as worker
    processes do: each piece reads only its own range and knows nothing of the others."""
    starts = sorted({1, *cuts})
    ends = [s - 1 for s in starts[1:]] + [10**9]
    return [
        walk_segment([r for r in rows if first <= r.seq <= last], first, None, mark)
        for first, last in zip(starts, ends, strict=True)
    ]


TAMPERINGS = ["none", "edit", "delete", "swap", "duplicate", "foreign", "truncate", "relink"]


@settings(max_examples=400)
@given(
    st.integers(1, 12),
    st.sampled_from(TAMPERINGS),
    st.integers(0, 11),
    st.lists(st.integers(2, 13), max_size=4),
    st.booleans(),
)
def test_a_chain_walked_in_pieces_gets_the_same_report(
    n: int, tampering: str, at: int, cuts: list[int], with_checkpoint: bool
) -> None:
    rows = chain(n)
    cp = Head(n, rows[-1].hash) if with_checkpoint else None
    i = at % n
    if tampering == "edit":
        rows[i] = rows[i]._replace(payload=rows[i].payload.replace(b"entry", b"entrY"))
    elif tampering == "delete":
        del rows[i]
    elif tampering == "swap" and i + 1 < n:
        rows[i], rows[i + 1] = rows[i + 1]._replace(seq=i + 1), rows[i]._replace(seq=i + 2)
    elif tampering == "duplicate":
        rows.insert(i, rows[i])
    elif tampering == "foreign":
        rows[i] = chain(n, key="p2")[i]
    elif tampering == "truncate":
        rows = rows[:i]
    elif tampering == "relink":
        rows[i] = rows[i]._replace(prev_hash="0" * 64)
    whole = walk("passport", "p1", rows, cp)
    joined = join("passport", "p1", pieces(rows, cuts, cp.seq if cp else 0), cp)
    assert joined.ok == whole.ok
    assert (joined.entries, joined.head_hash) == (whole.entries, whole.head_hash)
    if whole.first_bad is not None:
        assert joined.first_bad is not None
        assert (joined.first_bad.seq, joined.first_bad.problem) == (
            whole.first_bad.seq,
            whole.first_bad.problem,
        )
    # Every tampering shows, except a tail cut off where no checkpoint says how long it was.
    cut_tail = tampering == "truncate" or (tampering == "delete" and i == n - 1)
    if tampering != "none" and not (tampering == "swap" and i + 1 >= n):
        assert not whole.ok or (cut_tail and cp is None)
