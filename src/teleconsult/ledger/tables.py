"""The ledgers: which table keeps each family of chains, and how its rows are bound to
their documents.

The ledger package sits below the passport and the audit log, so it names their tables
here rather than importing their models: a chained table has ``id``, a key column (one
chain per key), ``seq``, ``document``, ``prev_hash`` and ``hash``, plus the columns that
repeat document fields for queries, which :mod:`.bindings` checks.
tests/unit/test_ledger_tables.py checks these names against the tables themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, Text, Uuid, column, table
from sqlalchemy.sql.expression import ColumnClause, TableClause
from sqlalchemy.types import TypeEngine

from .bindings import BINDINGS
from .chain import Binding


@dataclass(frozen=True)
class Ledger:
    """A family of chains stored in one table, one chain per key.

    ``columns`` are the columns that repeat document fields (UUIDs among them as
    ``uuids``); ``binding(key, hex_uuids)`` checks them against the rows' documents (see
    :data:`chain.Binding`), ``hex_uuids`` saying that the database gives UUIDs as 32 hex
    digits (SQLite).
    """

    name: str
    table: TableClause
    key_column: ColumnClause[Any]
    key_value: Callable[[str], Any]
    columns: tuple[str, ...]
    uuids: frozenset[str]

    @property
    def binding(self) -> Callable[[str, bool], Binding]:
        return BINDINGS[self.name]


def _ledger(
    name: str,
    table_name: str,
    key: str,
    key_type: TypeEngine[Any],
    key_value: Callable[[str], Any],
    repeated: tuple[str, ...] = (),
    **own: TypeEngine[Any],
) -> Ledger:
    """``repeated``: the columns the binding checks, in the order the walk reads them;
    ``own``: the table's columns beyond those every chained table has."""
    t = table(
        table_name,
        column("id", Uuid()),
        column(key, key_type),
        column("seq", Integer()),
        column("document", Text()),
        column("prev_hash", String(64)),
        column("hash", String(64)),
        *(column(extra, type_) for extra, type_ in own.items()),
    )
    uuids = frozenset(c for c in repeated if isinstance(t.c[c].type, Uuid))
    return Ledger(name, t, t.c[key], key_value, repeated, uuids)


# A patient's passport: keyed by patient id; kind and amends repeat document fields.
PASSPORT = _ledger(
    "passport",
    "passport_entries",
    "patient_id",
    Uuid(),
    uuid.UUID,
    ("id", "kind", "amends"),
    kind=String(20),
    amends=Uuid(),
)
# The audit log: keyed by chain (a patient id, or "system").
AUDIT = _ledger("audit", "audit_entries", "chain", String(64), str)
LEDGERS = (PASSPORT, AUDIT)
assert {ledger.name for ledger in LEDGERS} == set(BINDINGS)
