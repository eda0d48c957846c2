"""A page of the passport as a read answers it: the amended view (each entry with its newest
correction and the versions it replaces), in chain order, from a cursor on.

One path for every page: the entries and the corrections among them are selected in one
statement (so from one snapshot of the database), then the page is serialised here. An
entry is served as it was hashed: its stored canonical document, with ``hash``,
``superseded_by`` and ``history`` put in front of the document's own members
(:func:`_items`). The documents are JSON already; decoding each one only to encode it
again would cost many times what reading them does. Only a text search decodes them, to
look into their bodies.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, CompoundSelect, and_, bindparam, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from ..db.paging import encode_cursor
from .models import PassportEntry


@dataclass(frozen=True)
class PassportPage:
    """A page of the passport as a read answers it: ``body`` is the whole response, UTF-8 JSON
    ``{"items": [...], "next": cursor | null}``; ``count`` entries, and ``last_seq``, the
    ``seq`` to continue after when more entries follow."""

    body: bytes
    count: int
    last_seq: int | None


# seq → (the newest correction's id, the earlier versions' ids, newest first).
Links = dict[int, tuple[str | None, list[str]]]


async def page(
    conn: AsyncConnection,
    patient_id: uuid.UUID,
    shown: set[str] | None,
    text: str | None,
    current_only: bool,
    after_seq: int,
    limit: int | None,
) -> PassportPage:
    """The entries of the ``shown`` kinds (all if None) from ``after_seq`` on, ``limit`` at
    most (all without one), matching ``text`` if given; only the newest version of each
    corrected entry if ``current_only``. ``conn`` is a reader connection."""
    kinds = sorted(shown) if shown is not None else None
    page_limit = limit + 1 if text is None and limit is not None else None  # +1: more follow?
    statement = _page_and_corrections(kinds is not None, current_only, page_limit is not None)
    params: dict[str, Any] = {"patient_id": patient_id, "after_seq": after_seq}
    if kinds is not None:
        params["kinds"] = kinds
    if page_limit is not None:
        params["limit"] = page_limit
    found = (await conn.execute(statement, params)).all()
    # The corrections are the rows without a document; the entries, put in chain order.
    corrections = [
        (row[0], _uuid_text(row[3]), _uuid_text(row[4]), row[5]) for row in found if row[1] is None
    ]
    rows = [row for row in found if row[1] is not None]
    rows.sort(key=itemgetter(0))
    if text is not None:
        needle = text.casefold()
        rows = [row for row in rows if _matches(json.loads(row[1]), needle)]
    more = limit is not None and len(rows) > limit
    if more:
        rows = rows[:limit]
    items = _items(rows, _linked(corrections))
    last_seq = rows[-1][0] if more else None
    cursor = json.dumps(encode_cursor([last_seq]) if last_seq is not None else None)
    body = "".join(['{"items":[', *items, '],"next":', cursor, "}"]).encode()
    return PassportPage(body, len(rows), last_seq)


@functools.cache
def _page_and_corrections(by_kind: bool, current_only: bool, limited: bool) -> CompoundSelect[Any]:
    """One statement, so that both come from one snapshot of the database: the page's
    entries, ``(seq, document, hash, NULL, NULL, NULL)``, and the corrections among the
    kinds shown, ``(seq, NULL, NULL, id, amends, the amended entry's seq)``. Built once per
    shape; the parameters are ``patient_id``, ``after_seq``, ``kinds`` and ``limit``.

    The entries are the patient's after ``after_seq``, of ``kinds`` if ``by_kind``, ``limit``
    at most if ``limited``; only those no entry corrects if ``current_only``. A correction
    has the kind of what it corrects, so the kinds shown hold every correction of an entry
    shown. Corrections are few: they are found through the partial index on ``amends``."""
    patient_id: BindParameter[Any] = bindparam("patient_id")
    kinds: BindParameter[Any] = bindparam("kinds", expanding=True)
    c = aliased(PassportEntry)
    t = aliased(PassportEntry)
    corrections = (
        select(c.seq, null(), null(), c.id, c.amends, t.seq)
        .select_from(c)
        .outerjoin(t, and_(t.id == c.amends, t.patient_id == c.patient_id))
        .where(c.patient_id == patient_id, c.amends.is_not(None))
    )
    e = PassportEntry
    entries = select(e.seq, e.document, e.hash).where(
        e.patient_id == patient_id, e.seq > bindparam("after_seq")
    )
    if by_kind:
        corrections = corrections.where(c.kind.in_(kinds))
        entries = entries.where(e.kind.in_(kinds))
    if current_only:
        amended = aliased(PassportEntry)
        newer = select(amended.amends).where(
            amended.patient_id == patient_id, amended.amends.is_not(None)
        )
        if by_kind:
            newer = newer.where(amended.kind.in_(kinds))
        entries = entries.where(e.id.not_in(newer))
    entries = entries.order_by(e.seq)
    if limited:
        entries = entries.limit(bindparam("limit"))
    page = entries.subquery()
    return union_all(
        select(page.c.seq, page.c.document, page.c.hash, null(), null(), null()),
        corrections,
    )


def _linked(rows: list[tuple[int, str, str, int | None]]) -> Links:
    """seq → (newest correction's id, earlier versions newest first), for the entries that
    take part in a correction, from the corrections' ``(seq, id, amends, amended seq)``."""
    rows.sort(key=lambda row: row[0])
    amends_of = {own: amended for _, own, amended, _ in rows}
    links: Links = {}
    for _, own, _, target in rows:  # in chain order: the newest correction comes last
        if target is not None:
            links[target] = (own, links.get(target, (None, []))[1])
    for seq, own, _, _ in rows:
        history: list[str] = []
        previous: str | None = amends_of[own]
        while previous is not None and previous not in history and previous != own:
            history.append(previous)
            previous = amends_of.get(previous)
        links[seq] = (links.get(seq, (None, []))[0], history)
    return links


# The links of an entry that takes no part in any correction (nearly all of them).
_UNCORRECTED = '","superseded_by":null,"history":[],'


def _uuid_text(value: Any) -> str:
    """A UUID as the documents write it (SQLite gives 32 hex digits, PostgreSQL a UUID)."""
    return str(uuid.UUID(str(value)))


def _items(rows: Sequence[Sequence[Any]], links: Links) -> list[str]:
    """The page's entries as JSON text, in parts to be joined once: each entry its hash and
    links, then its stored document's own members (a canonical JSON object, so everything
    after its opening brace). A hash is the 64 hex digits :func:`ledger.store.append` wrote."""
    parts: list[str] = []
    for row in rows:
        seq, document, digest = row[0], row[1], row[2]
        link = links.get(seq)
        if link is None:
            tail = _UNCORRECTED
        else:
            newer, history = link
            tail = f'","superseded_by":{json.dumps(newer)},"history":{json.dumps(history)},'
        parts += (',{"hash":"', digest, tail, document[1:])
    if parts:
        parts[0] = '{"hash":"'  # no comma before the first entry
    return parts


def _matches(doc: dict[str, Any], needle: str) -> bool:
    return needle in json.dumps(doc["body"], ensure_ascii=False).casefold()
