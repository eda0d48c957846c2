from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class Facility(UUIDPrimaryKey, Base):
    """A clinic or hospital: rural clinics are primary care, regional hospitals secondary."""

    __tablename__ = "facilities"

    name: Mapped[str] = mapped_column(String(200))
    # The name in Kazakh and in Russian; ``name`` is the English (or only) one.
    name_kk: Mapped[str | None] = mapped_column(String(200))
    name_ru: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(40), index=True)
    level: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
