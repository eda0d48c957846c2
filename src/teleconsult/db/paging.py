"""Keyset pagination: ``{"items": [...], "next": cursor}`` without OFFSET scans."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ..api import decode_cursor, encode_cursor
from ..errors import ValidationFailed


def _coerce(column: InstrumentedAttribute[Any], value: Any) -> Any:
    python_type = column.type.python_type
    try:
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is uuid.UUID:
            return uuid.UUID(value)
        return python_type(value)
    except (TypeError, ValueError):
        raise ValidationFailed("cursor: not a cursor", fields={"cursor": "not a cursor"}) from None


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
            raise ValidationFailed("cursor: not a cursor", fields={"cursor": "not a cursor"})
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
