from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from teleconsult.passport.chain import Head, StoredEntry, canonical, genesis, link, stored, walk


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
