"""A page of the passport as a read answers it, made from the stored documents.

Each entry is served exactly as it was hashed, its canonical document, with its hash and
its place among corrections put in front of the document's own fields: no entry is decoded
on the way out. The database makes the entries' JSON itself, and the rows come through the
driver with no SQLAlchemy result around them:

- on SQLite the whole list of entries in one value (:func:`_sqlite_items`), after the few
  entries that take part in a correction are found, both in one trip and one snapshot;
- on PostgreSQL one value per entry, joined here (:func:`_postgres_items`): the same
  aggregate there is slower than sending the rows (bench/passport.py). The entries that
  take part in a correction are found after, and theirs mended.

A text search reads the documents, so its page is joined here from the rows
(:func:`_searched_items`). All three make the same bytes
(tests/integration/test_passport_pages.py).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..db.paging import encode_cursor
from ..db.sqlite_driver import in_connection
from .ledger import PASSPORT


@dataclass(frozen=True)
class PassportPage:
    """A page of the passport as a read answers it: ``body`` is the whole response, UTF-8 JSON
    ``{"items": [...], "next": cursor | null}``, each entry its stored document (served as it
    was hashed) with its hash and its place among corrections put first; ``count`` entries,
    and ``last_seq``, the ``seq`` to continue after when more entries follow."""

    body: bytes
    count: int
    last_seq: int | None


# seq → (the newest correction's id, the earlier versions' ids, newest first).
Links = dict[int, tuple[str | None, list[str]]]


@dataclass(frozen=True)
class _Wanted:
    """What a page asks for: the entries of ``kinds`` (all if None) after ``after_seq``, at
    most ``limit`` (all if None), only the newest version of each if ``current_only``."""

    patient_id: uuid.UUID
    kinds: tuple[str, ...] | None
    current_only: bool
    after_seq: int
    limit: int | None


# An entry is '{"hash":"<hash>' + its links + ',' + its document after the opening brace.
_OPEN = '{"hash":"'
# The links of an entry that takes no part in any correction (nearly all of them).
_UNCORRECTED = '","superseded_by":null,"history":[]'


def _links(link: tuple[str | None, list[str]] | None) -> str:
    if link is None:
        return _UNCORRECTED
    newer, history = link
    earlier = ",".join(f'"{h}"' for h in history)
    newest = f'"{newer}"' if newer is not None else "null"
    return f'","superseded_by":{newest},"history":[{earlier}]'


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
    kinds = tuple(sorted(shown)) if shown is not None else None
    wanted = _Wanted(patient_id, kinds, current_only, after_seq, limit)
    if text is not None:
        items, count, last_seq = await _searched_items(conn, wanted, text)
    elif conn.dialect.name == "sqlite":
        # Both statements in one trip to the connection's thread.
        items, count, last_seq = await in_connection(
            await _driver(conn), lambda db: _sqlite_items(db, wanted)
        )
    else:
        items, count, last_seq = await _postgres_items(conn, wanted)
    return PassportPage(_body(items, last_seq), count, last_seq)


def _body(items: list[bytes], last_seq: int | None) -> bytes:
    """``{"items":[...],"next":...}`` made in one copy of the entries. A 5,000-entry passport
    is some 2.5 MB: a join, a concatenation and an encoding of the whole, each into fresh
    memory, cost ~5 ms here (bench/passport.py), more than building the entries."""
    nxt = json.dumps(encode_cursor([last_seq])) if last_seq is not None else "null"
    head, tail = b'{"items":[', f'],"next":{nxt}}}'.encode()
    if len(items) <= 1:
        return b"".join((head, *items, tail))
    items[0] = head + items[0]
    items[-1] += tail
    return b",".join(items)


async def _driver(conn: AsyncConnection) -> Any:
    """The reader's own driver connection (an aiosqlite or asyncpg connection's adapter)."""
    raw: Any = await conn.get_raw_connection()
    return raw.dbapi_connection if conn.dialect.name == "sqlite" else raw.driver_connection


# --- SQLite: the whole list in one value --------------------------------------------------


def _sqlite_items(db: sqlite3.Connection, wanted: _Wanted) -> tuple[list[bytes], int, int | None]:
    """In the connection's thread: the corrections, then the page in one statement, both
    on one snapshot of the database (a read transaction: a correction written meanwhile
    shows in both or in neither)."""
    patient, kinds, limit = wanted.patient_id.hex, wanted.kinds, wanted.limit
    db.execute("BEGIN")
    try:
        links = _sqlite_corrections(db, patient, kinds)
        params: dict[str, Any] = {
            "patient": patient,
            "after": wanted.after_seq,
            "open": _OPEN,
            "uncorrected": _UNCORRECTED,
            "limit": -1 if limit is None else limit,  # -1: no limit
        }
        for i, kind in enumerate(kinds or ()):
            params[f"k{i}"] = kind
        for i, (seq, link) in enumerate(sorted(links.items())):
            params[f"s{i}"], params[f"t{i}"] = seq, _links(link)
        count_kinds = len(kinds) if kinds is not None else None
        sql = _sqlite_page_sql(count_kinds, wanted.current_only, limit is not None, len(links))
        items, count, last, more = db.execute(sql, params).fetchone()
    finally:
        db.execute("COMMIT")
    return [items] if items else [], count, last if more else None


def _sqlite_page_sql(kinds: int | None, current_only: bool, limited: bool, links: int) -> str:
    """One statement that answers a page: ``(items, count, last seq, more follow)``.

    The entries are read in chain order through the ``(patient_id, seq)`` index by a
    subquery with ORDER BY, which SQLite runs as a coroutine feeding the aggregate row by row
    in that order (it never flattens an ordered subquery into an aggregate query), and
    ``group_concat`` appends them as they come. A document is cut as a BLOB, so that its
    bytes are counted, not its characters."""

    def chosen(alias: str) -> str:
        where = f"{alias}.patient_id = :patient"
        if kinds is not None:
            where += f" AND {alias}.kind IN ({', '.join(f':k{i}' for i in range(kinds))})"
        return where

    where = chosen("e")
    if current_only:
        where += (
            " AND e.id NOT IN (SELECT c.amends FROM passport_entries c"
            f" WHERE {chosen('c')} AND c.amends IS NOT NULL)"
        )
    tail = ":uncorrected"
    with_links = ""
    if links:
        pairs = ", ".join(f"(:s{i}, :t{i})" for i in range(links))
        with_links = f"WITH links(seq, tail) AS (VALUES {pairs}) "
        tail = "coalesce((SELECT tail FROM links WHERE links.seq = e.seq), :uncorrected)"
    item = f":open || e.hash || {tail} || ',' || substr(CAST(e.document AS BLOB), 2)"
    # Whether more follow: the page's rows and one more counted through the index, in the
    # same statement (no limit: none follow).
    more = "0"
    if limited:
        more = (
            "(SELECT count(*) FROM (SELECT 1 FROM passport_entries e"
            f" WHERE {where} AND e.seq > :after LIMIT :limit + 1)) > :limit"
        )
    return (
        f"{with_links}SELECT CAST(group_concat(item, ',') AS BLOB), count(*), max(seq), {more}"
        f" FROM (SELECT {item} AS item, e.seq AS seq FROM passport_entries e"
        f" WHERE {where} AND e.seq > :after ORDER BY e.seq LIMIT :limit)"
    )


# --- PostgreSQL: one value per entry ------------------------------------------------------


def _postgres_page_sql(kinds: bool, current_only: bool) -> str:
    """``(item, seq, the hash's length)`` of a page's entries, and of one more if there is
    one: ``$1`` patient, ``$2`` after seq, ``$3`` how many (NULL: all), ``$4`` the kinds.
    Each entry as bytes in the client's encoding (UTF-8 for asyncpg), made as if it took
    part in no correction (:func:`_relinked` mends the few that do)."""

    def chosen(alias: str) -> str:
        return f"{alias}.patient_id = $1" + (f" AND {alias}.kind = ANY($4)" if kinds else "")

    where = chosen("e")
    if current_only:
        where += (
            " AND NOT EXISTS (SELECT 1 FROM passport_entries c"
            f" WHERE {chosen('c')} AND c.amends = e.id)"
        )
    opening = f"'\\x{_OPEN.encode().hex()}'::bytea"
    uncorrected = f"'\\x{(_UNCORRECTED + ',').encode().hex()}'::bytea"
    return (
        f"SELECT {opening} || textsend(e.hash) || {uncorrected}"
        " || substr(textsend(e.document), 2), e.seq, length(textsend(e.hash))"
        f" FROM passport_entries e WHERE {where} AND e.seq > $2 ORDER BY e.seq LIMIT $3"
    )


_POSTGRES_SQL = {
    (kinds, current): _postgres_page_sql(kinds, current)
    for kinds in (False, True)
    for current in (False, True)
}


async def _postgres_items(
    conn: AsyncConnection, wanted: _Wanted
) -> tuple[list[bytes], int, int | None]:
    """The page's entries first, then the corrections: one written in between only adds a
    link that is true by the time the page is answered (a later entry supersedes one
    shown), and the entries' own histories reach back, never forward."""
    limit = wanted.limit
    args: list[Any] = [wanted.patient_id, wanted.after_seq, None if limit is None else limit + 1]
    if wanted.kinds is not None:
        args.append(list(wanted.kinds))
    sql = _POSTGRES_SQL[wanted.kinds is not None, wanted.current_only]
    rows = await (await _driver(conn)).fetch(sql, *args)
    more = limit is not None and len(rows) > limit
    if more:
        rows = rows[:limit]
    links = await _corrections(conn, wanted)
    items = [row[0] for row in rows] if not links else _relinked(rows, links)
    return items, len(items), rows[-1][1] if more else None


def _relinked(rows: list[Any], links: Links) -> list[bytes]:
    """The entries of ``rows`` with the links of those that take part in a correction put
    in place of an uncorrected entry's."""
    unlinked = len(_UNCORRECTED)
    items = []
    for item, seq, hash_length in rows:
        link = links.get(seq)
        if link is not None:
            at = len(_OPEN) + hash_length
            item = item[:at] + _links(link).encode() + item[at + unlinked :]
        items.append(item)
    return items


# --- a text search: joined here -----------------------------------------------------------


def _entries() -> Select[Any]:
    """A passport's entries from ``after_seq`` on, as a search reads them."""
    t = PASSPORT.table
    return (
        select(t.c.seq, t.c.document, t.c.hash)
        .where(t.c.patient_id == bindparam("patient_id"), t.c.seq > bindparam("after_seq"))
        .order_by(t.c.seq)
    )


_ENTRIES = _entries()


async def _searched_items(
    conn: AsyncConnection, wanted: _Wanted, text: str
) -> tuple[list[bytes], int, int | None]:
    """The entries whose body holds ``text`` (case-insensitive), made here from their rows."""
    t = PASSPORT.table
    query = _ENTRIES
    patient_id, kinds, limit = wanted.patient_id, wanted.kinds, wanted.limit
    # A correction has the kind of what it corrects, so the kinds shown hold every link.
    if kinds is not None:
        query = query.where(t.c.kind.in_(kinds))
    if wanted.current_only:
        c = PASSPORT.table.alias("correction")
        amended = select(c.c.amends).where(c.c.patient_id == patient_id, c.c.amends.is_not(None))
        if kinds is not None:
            amended = amended.where(c.c.kind.in_(kinds))
        query = query.where(t.c.id.not_in(amended))
    params = {"patient_id": patient_id, "after_seq": wanted.after_seq}
    rows = (await conn.execute(query, params)).all()
    needle = text.casefold()
    rows = [row for row in rows if _matches(json.loads(row.document), needle)]
    more = limit is not None and len(rows) > limit
    if more:
        rows = rows[:limit]
    links = await _corrections(conn, wanted)  # after the rows: see _postgres_items
    items = [
        f"{_OPEN}{digest}{_links(links.get(seq))},{document[1:]}".encode()
        for seq, document, digest in rows
    ]
    return items, len(items), rows[-1][0] if more else None


def _matches(doc: dict[str, Any], needle: str) -> bool:
    return needle in json.dumps(doc["body"], ensure_ascii=False).casefold()


# --- corrections --------------------------------------------------------------------------


def _corrections_query(
    dialect: str, patient: Any, kinds: tuple[str, ...] | None
) -> tuple[str, list[Any]]:
    """The entries of the ``kinds`` shown that correct another, ``(seq, id, amends, the
    amended entry's seq)``, found through the partial index on ``amends`` and the primary
    key. No ORDER BY: sorting would lead the database to the (patient_id, seq) index and
    past every entry of the passport; :func:`_linked` puts the few rows in order."""
    sqlite = dialect == "sqlite"
    ids = "c.id, c.amends" if sqlite else "c.id::text, c.amends::text"
    sql = (
        f"SELECT c.seq, {ids}, t.seq FROM passport_entries c"
        " LEFT JOIN passport_entries t ON t.id = c.amends AND t.patient_id = c.patient_id"
        f" WHERE c.patient_id = {'?' if sqlite else '$1'} AND c.amends IS NOT NULL"
    )
    if kinds is None:
        return sql, [patient]
    if sqlite:
        return f"{sql} AND c.kind IN ({', '.join('?' * len(kinds))})", [patient, *kinds]
    return f"{sql} AND c.kind = ANY($2)", [patient, list(kinds)]


async def _corrections(conn: AsyncConnection, wanted: _Wanted) -> Links:
    """:func:`_linked` over :func:`_corrections_query`, through the driver."""
    patient_id, kinds = wanted.patient_id, wanted.kinds
    driver = await _driver(conn)
    if conn.dialect.name == "sqlite":
        patient = patient_id.hex
        return await in_connection(driver, lambda db: _sqlite_corrections(db, patient, kinds))
    sql, params = _corrections_query("postgresql", patient_id, kinds)
    return _linked([tuple(row) for row in await driver.fetch(sql, *params)])


def _sqlite_corrections(
    db: sqlite3.Connection, patient: str, kinds: tuple[str, ...] | None
) -> Links:
    """:func:`_corrections` in the SQLite connection's thread; ``patient`` as 32 hex digits."""
    sql, params = _corrections_query("sqlite", patient, kinds)
    # SQLite keeps UUIDs as 32 hex digits; the documents write them dashed.
    found = db.execute(sql, params).fetchall()
    return _linked([(seq, _dashed(i), _dashed(a), t) for seq, i, a, t in found])


def _linked(rows: list[tuple[Any, ...]]) -> Links:
    """seq → (newest correction's id, earlier versions newest first), for the few entries
    that take part in a correction, from the corrections' ``(seq, id, amends, amended seq)``."""
    if not rows:
        return {}
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


def _dashed(hex32: str) -> str:
    return str(uuid.UUID(hex32))
