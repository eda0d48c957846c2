"""The compiled check of a piece of a chain (``_fastwalk.c`` for SQLite, ``_fastwalk_pg.c``
for PostgreSQL, both over ``_walkcheck.h``), where it was built.

It reads and checks rows without a Python object per row and without the interpreter lock,
so that the pieces of a long chain are checked side by side in threads, several times
faster than the Python walk reads and walks them (bench/passport.py). It only says whether
every entry checked out: a piece that did not is walked again in Python
(:func:`chain.walk_segment`), which names the first bad entry. Without the compiled modules
(no C compiler, or no SQLite, libpq or OpenSSL headers where the package was installed)
every piece is walked in Python.
"""

from __future__ import annotations

import threading
from typing import Any

from .chain import Segment

try:
    from . import _fastwalk  # type: ignore[attr-defined]
except ImportError:  # depends on how the package was built
    _fastwalk = None
try:
    from . import _fastwalk_pg  # type: ignore[attr-defined]
except ImportError:
    _fastwalk_pg = None

# A reader type per dialect: Reader(target, sql), where target is a SQLite file's path or a
# libpq connection string.
_READERS: dict[str, Any] = {}
if _fastwalk is not None:
    _READERS["sqlite"] = _fastwalk.Reader
if _fastwalk_pg is not None:
    _READERS["postgresql"] = _fastwalk_pg.PgReader

# The ledgers the compiled check knows, by their code in _walkcheck.h.
_LEDGERS = {"passport": 0, "audit": 1}

# Each thread keeps its last reader: a connection opened once, its query prepared once (and
# on SQLite its memory map and page cache kept) from one piece to the next.
_local = threading.local()


def available(dialect: str) -> bool:
    """Whether the compiled check was built for this database."""
    return dialect in _READERS


def _reader(dialect: str, target: str, sql: str) -> Any:
    held = getattr(_local, "reader", None)
    if held is None or held[0] != (dialect, target, sql):
        held = ((dialect, target, sql), _READERS[dialect](target, sql))
        _local.reader = held
    return held[1]


def walk(
    dialect: str,
    target: str,
    sql: str,
    ledger: str,
    key: str,
    key_param: Any,
    first: int,
    last: int,
    mark: int = 0,
) -> Segment | None:
    """Entries ``first``..``last`` of chain ``key``, as :func:`chain.walk_segment` reports
    them, if every one of them checked out; None if one did not, or if the check is not
    built for this database: then the Python walk must look.

    ``target`` is the SQLite file's path or the PostgreSQL connection string, ``sql`` is
    :func:`ledger.parts_sql` and ``key_param`` the key as the database holds it
    (:func:`ledger.key_param`). Blocking: run it in a thread.
    """
    if dialect not in _READERS:
        return None
    ok, first_seq, links_to, count, head, marked = _reader(dialect, target, sql).walk(
        key_param, first, last, _LEDGERS[ledger], key, first, None, mark
    )
    if not ok:
        return None
    return Segment(first, first_seq, links_to, count, head, marked, None)
