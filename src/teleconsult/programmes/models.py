from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey


class Programme(Base):
    """A follow-up plan for a condition (shipped in migration 0027, edited by administrators)."""

    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    icd10: Mapped[list[str]] = mapped_column(JSON)
    visit_interval_days: Mapped[int] = mapped_column(Integer)
    # [{"measure", "low", "high", "high2"}]: see programmes/catalogue.py
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    review_specialty: Mapped[str | None] = mapped_column(String(40))
    review_interval_days: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Enrolment(UUIDPrimaryKey, Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("patient_id", "programme"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("patients.id"))
    programme: Mapped[str] = mapped_column(String(40))
    facility_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    enrolled_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
