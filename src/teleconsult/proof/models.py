from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class ProofFlag(UUIDPrimaryKey, Base):
    """One reason to doubt that a completed consultation was delivered, set when it completed.

    The facility, specialist and completion time are copied from the consultation so that the
    report groups flags without joining it; ``connected_seconds`` is the evidence kept at the
    time (a video call's seconds with the specialist and the GP or patient both connected).
    """

    __tablename__ = "proof_flags"
    __table_args__ = (
        UniqueConstraint("consultation_id", "reason", name="uq_proof_flags_consultation_reason"),
        Index("ix_proof_flags_completed", "completed_at", "id"),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("consultations.id"), index=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    facility_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("facilities.id"))
    specialist_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    connected_seconds: Mapped[float | None] = mapped_column(Float)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
