from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class AvailabilityWindow(UUIDPrimaryKey, Base):
    """A span of time a specialist publishes; slots are cut from it."""

    __tablename__ = "availability_windows"

    specialist_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the window was cut from weekly hours (None: a one-off window).
    weekly_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)


class Slot(UUIDPrimaryKey, Base):
    """A bookable piece of a window. Slots of one specialist never overlap (database rule)."""

    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("specialist_id", "starts_at"),)

    window_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("availability_windows.id"), index=True
    )
    specialist_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WeeklyHours(UUIDPrimaryKey, Base):
    """Recurring hours on one weekday (0 = Monday), in the specialist's time zone; the slots of
    the coming weeks are cut from it as windows (``AvailabilityWindow.weekly_id``)."""

    __tablename__ = "weekly_hours"

    specialist_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    # Minutes after local midnight.
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))
    slot_minutes: Mapped[int] = mapped_column(Integer)
    # The last local day whose slots were cut: later days are cut as time moves on, and a
    # day the specialist removed by hand is not cut again.
    cut_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Leave(UUIDPrimaryKey, Base):
    """Days off, first to last day inclusive, in the specialist's time zone: no slots then."""

    __tablename__ = "leave"

    specialist_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    time_zone: Mapped[str] = mapped_column(String(64))
    # The same span as instants, so slots can be compared with it.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
