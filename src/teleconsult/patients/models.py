from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, validates

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class Patient(UUIDPrimaryKey, Base):
    """A citizen, identified by the 12-digit IIN and attached to a primary-care facility."""

    __tablename__ = "patients"

    iin: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The name as searched: casefolded (any script, Cyrillic too) with single spaces; set
    # whenever the name is, so every way a patient is made keeps it (see ``name_key``).
    name_key: Mapped[str] = mapped_column(String(200), index=True, default="")
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(String(20))
    facility_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("facilities.id"), index=True
    )
    registered_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("full_name")
    def _keep_name_key(self, _key: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


def name_key(text: str) -> str:
    """What a name search compares: casefolded, whitespace collapsed."""
    return " ".join(text.split()).casefold()
