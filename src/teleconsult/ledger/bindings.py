"""Checks that a ledger's own columns say what its documents say.

Reads filter and link by columns that repeat document fields (a passport entry's kind, id
and the entry it amends), so a column changed without its document must show when a chain
is verified. Plain functions over driver rows, with no database code: the worker processes
that walk long chains (:mod:`.worker`) import them too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .chain import Binding


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def passport_binding(key: str, hex_uuids: bool) -> Binding:
    # Sorted keys: "amends" opens the document; "id", "kind", "patient_id", "seq" close it.
    # The payload is the 64-digit previous hash, then the document.
    closing = f'","patient_id":"{key}","seq":'

    def unbound(rows: Sequence[Sequence[Any]]) -> Sequence[Any] | None:
        for row in rows:
            seq, _, payload, _, i, kind, amends = row
            if amends is None:
                if not payload.startswith(b'{"amends":null,', 64):
                    return row
            else:
                amended = _dashed(amends) if hex_uuids else amends
                if not payload.startswith(f'{{"amends":"{amended}",'.encode(), 64):
                    return row
            # Once per entry: the id's dashes put in place inline, not through a call.
            tail = (
                f',"id":"{i[:8]}-{i[8:12]}-{i[12:16]}-{i[16:20]}-{i[20:]}","kind":"{kind}'
                if hex_uuids
                else f',"id":"{i}","kind":"{kind}'
            )
            if not payload.endswith(f"{tail}{closing}{seq}}}".encode()):
                return row
        return None

    return unbound


def audit_binding(key: str, hex_uuids: bool) -> Binding:
    def unbound(rows: Sequence[Sequence[Any]]) -> Sequence[Any] | None:
        for row in rows:
            payload = row[2]
            if not (payload.startswith(b"{", 64) and payload.endswith(b',"seq":%d}' % row[0])):
                return row
        return None

    return unbound


# Each ledger's check, by ledger name: ``binding(key, hex_uuids)``.
BINDINGS: dict[str, Callable[[str, bool], Binding]] = {
    "passport": passport_binding,
    "audit": audit_binding,
}
