"""Pure rules for writing to a passport and for reading it with its corrections."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from ..consultations.lifecycle import Status

# Notes may still be added this long after a consultation ends (late lab results, letters).
WRITE_GRACE = timedelta(hours=72)


def may_write_now(status: str, ended_at: datetime | None, now: datetime) -> bool:
    """While the consultation is in progress, or up to 72 hours after it was completed."""
    if status == Status.in_progress:
        return True
    return status == Status.completed and ended_at is not None and now <= ended_at + WRITE_GRACE


def may_author(
    user_id: uuid.UUID, specialist_id: uuid.UUID | None, requester_id: uuid.UUID
) -> bool:
    """Only the consultation's specialist or the GP who requested it writes for it."""
    return user_id in (specialist_id, requester_id)


def amended_view(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Annotate entries (in chain order) with who corrects them and what they replace.

    ``superseded_by`` is the newest correction of an entry; ``history`` lists the earlier
    versions an entry replaces, newest first. Nothing is removed: the chain is the history.
    """
    by_id = {e["id"]: e for e in entries}
    superseded: dict[str, str] = {}
    for entry in entries:
        if entry.get("amends"):
            superseded[entry["amends"]] = entry["id"]
    for entry in entries:
        entry["superseded_by"] = superseded.get(entry["id"])
        history: list[str] = []
        seen = {entry["id"]}
        previous = entry.get("amends")
        while previous and previous not in seen:
            history.append(previous)
            seen.add(previous)
            previous = by_id.get(previous, {}).get("amends")
        entry["history"] = history
    return entries
