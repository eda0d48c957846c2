"""The compiled check of a piece of a chain on SQLite (``_fastwalk.c``), where it was built.

It reads and checks rows without a Python object per row and without the interpreter lock,
so that the pieces of a long chain are checked side by side in threads, several times
faster than the Python walk reads and walks them (bench/passport.py). It only says whether
every entry checked out: a piece that did not is walked again in Python
(:func:`chain.walk_segment`), which names the first bad entry. Without the compiled module
(no C compiler, SQLite or OpenSSL headers where the package was installed) every piece is
walked in Python.
"""

from __future__ import annotations

import threading
from typing import Any

from .chain import Segment

try:
    from . import _fastwalk  # type: ignore[attr-defined]
except ImportError:  # depends on how the package was built
    _fastwalk = None

AVAILABLE = _fastwalk is not None

# The ledgers the compiled check knows, by their code in _fastwalk.c.
_LEDGERS = {"passport": 0, "audit": 1}

# Each thread keeps its last reader: a connection opened once, its query prepared once, its
# memory map and page cache kept from one piece to the next.
_local = threading.local()


def _reader(path: str, sql: str) -> Any:
    held = getattr(_local, "reader", None)
    if held is None or held[0] != (path, sql):
        held = ((path, sql), _fastwalk.Reader(path, sql))
        _local.reader = held
    return held[1]


def walk_sqlite(
    path: str,
    sql: str,
    ledger: str,
    key: str,
    key_param: Any,
    first: int,
    last: int,
    mark: int = 0,
) -> Segment | None:
    """Entries ``first``..``last`` of chain ``key`` in the database file ``path``, as
    :func:`chain.walk_segment` reports them, if every one of them checked out; None if one
    did not, or if the check is not built: then the Python walk must look.

    ``sql`` is :func:`ledger.parts_sql`, ``key_param`` the key as SQLite holds it
    (:func:`ledger.key_param`). Blocking: run it in a thread.
    """
    if _fastwalk is None:
        return None
    ok, first_seq, links_to, count, head, marked = _reader(path, sql).walk(
        key_param, first, last, _LEDGERS[ledger], key, first, None, mark
    )
    if not ok:
        return None
    return Segment(first, first_seq, links_to, count, head, marked, None)
