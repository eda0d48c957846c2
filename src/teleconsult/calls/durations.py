"""How long a call was connected, from its participants' join and leave times.

A call is connected while at least two different people are in it: one person alone
waiting, or the same person on two connections for a moment (a reconnection), is not a
conversation. The consultation keeps the result when it completes, for the statistics.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CallParticipation

Stay = tuple[uuid.UUID, datetime, datetime | None]


def connected_seconds(stays: Iterable[Stay], until: datetime) -> float | None:
    """Seconds during which at least two different users were in the call, up to ``until``.

    ``stays`` are (user, joined, left); a stay not yet left counts up to ``until``.
    ``None`` when there was no stay at all (the call was never joined).
    """
    events: list[tuple[datetime, int, uuid.UUID]] = []
    any_stay = False
    for user, joined, left in stays:
        any_stay = True
        end = min(left or until, until)
        if end > joined:
            # At one instant, leaving sorts before joining: touching stays do not overlap.
            events += [(joined, 1, user), (end, -1, user)]
    if not any_stay:
        return None
    events.sort(key=lambda e: (e[0], e[1]))
    inside: dict[uuid.UUID, int] = {}
    total = 0.0
    since: datetime | None = None
    for at, step, user in events:
        if since is not None:
            total += (at - since).total_seconds()
        inside[user] = inside.get(user, 0) + step
        if not inside[user]:
            del inside[user]
        since = at if len(inside) >= 2 else None
    return total


async def call_seconds(
    session: AsyncSession, consultation_id: uuid.UUID, until: datetime
) -> float | None:
    """The connected time of a consultation's call so far (``None``: nobody ever joined)."""
    rows = await session.execute(
        select(
            CallParticipation.user_id, CallParticipation.joined_at, CallParticipation.left_at
        ).where(CallParticipation.consultation_id == consultation_id)
    )
    return connected_seconds(((u, j, left) for u, j, left in rows), until)
