from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey


class Observation(Base):
    """Where a passport observation entry is found by measure and time (the entry, in the
    patient's chain, is the record of truth; this row repeats what trends and the overdue
    list query)."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_patient_id_measure", "patient_id", "measure"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    measure: Mapped[str] = mapped_column(String(20))
    loinc: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    value2: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    measured_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # "gp", "patient" or "system"
    source: Mapped[str] = mapped_column(String(20))


class AttentionItem(UUIDPrimaryKey, Base):
    """A measurement outside its programme's target, for the patient's facility's GPs."""

    __tablename__ = "attention_items"

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    facility_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    measure: Mapped[str] = mapped_column(String(20))
    programme: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
