from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint, Uuid
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
