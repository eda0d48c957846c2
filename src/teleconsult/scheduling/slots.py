"""Slot derivation: pure rules, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 240
MAX_WINDOW = timedelta(hours=24)


def derive_slots(
    starts_at: datetime, ends_at: datetime, slot_minutes: int
) -> list[tuple[datetime, datetime]]:
    """Cut ``[starts_at, ends_at)`` into back-to-back slots; a short remainder is dropped."""
    if ends_at <= starts_at:
        raise ValueError("the window ends before it starts")
    step = timedelta(minutes=slot_minutes)
    slots = []
    cursor = starts_at
    while cursor + step <= ends_at:
        slots.append((cursor, cursor + step))
        cursor += step
    return slots


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals overlap when each starts before the other ends."""
    return a_start < b_end and b_start < a_end
