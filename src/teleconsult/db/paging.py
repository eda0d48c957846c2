"""Keyset pagination, the one paging scheme of the API: ``{"items": [...], "next": cursor}``.

A cursor is the sort key of the last row shown (a JSON list, base64url without padding); the
next page starts strictly after it, so no OFFSET scan and no row shown twice when rows are
added meanwhile. ``keyset_page`` pages an ORM query; the hash-chained lists (passport,
access log) page by their sequence number with ``seq_cursor`` / ``encode_cursor``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ..errors import ValidationFailed


def _not_a_cursor() -> ValidationFailed:
    return ValidationFailed(
        "cursor: not a cursor",
        fields={"cursor": "not a cursor"},
        field_codes={"cursor": "bad_cursor"},
        code="invalid",
    )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort key a cursor holds, or None for the first page; 422 for anything else."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise _not_a_cursor() from None
    if not isinstance(values, list):
        raise _not_a_cursor()
    return values


def seq_cursor(cursor: str | None) -> int | None:
    """The sequence number a chain's cursor holds (passport, access log), or None."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    if len(values) != 1 or type(values[0]) is not int or not 0 <= values[0] < 2**63:
        raise _not_a_cursor()
    return values[0]


def _coerce(column: InstrumentedAttribute[Any], value: Any) -> Any:
    """A cursor's value as the column's type, or 422: a cursor comes from the client, so
    anything the database could not compare (a naive time, a number past 64 bits, a text
    with a NUL) is refused here."""
    python_type = column.type.python_type
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _not_a_cursor()
    try:
        if python_type is datetime:
            moment = datetime.fromisoformat(str(value))
            if moment.tzinfo is None:
                raise ValueError("naive")
            return moment
        if python_type is uuid.UUID:
            return uuid.UUID(str(value))
        if python_type is int:
            number = int(value)
            if not -(2**63) <= number < 2**63:
                raise ValueError("out of range")
            return number
        if python_type is str and isinstance(value, str) and "\x00" not in value:
            return value
        raise ValueError("not a cursor value")
    except (TypeError, ValueError, AttributeError):
        raise _not_a_cursor() from None


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    cursor: str | None,
    limit: int,
    *,
    scalars: bool = True,
) -> tuple[list[Any], str | None]:
    """Rows after ``cursor`` in ascending ``order`` (which must end with a unique column).

    With ``scalars=False`` the statement selects several columns and rows come back whole;
    the order columns then belong to the first entity of each row.
    """
    values = decode_cursor(cursor)
    if values is not None:
        if len(values) != len(order):
            raise _not_a_cursor()
        bounds = [
            literal(_coerce(col, v), type_=col.type) for col, v in zip(order, values, strict=True)
        ]
        stmt = stmt.where(tuple_(*order) > tuple_(*bounds))
    stmt = stmt.order_by(*order).limit(limit + 1)
    rows: list[Any] = list(
        (await session.scalars(stmt)).all() if scalars else (await session.execute(stmt)).all()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1] if scalars else rows[-1][0]
        next_cursor = encode_cursor([getattr(last, col.key) for col in order])
    return rows, next_cursor
