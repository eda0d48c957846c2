from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow

ACTIVE_STATUSES = ("requested", "scheduled", "in_progress")
# Every consultation but a cancelled one keeps its slot: a completed or missed call used it.
HOLDS_SLOT_SQL = "status <> 'cancelled'"


class Consultation(UUIDPrimaryKey, Base):
    """A GP's request for a specialist's opinion: a video call in a slot, or an async case."""

    __tablename__ = "consultations"
    __table_args__ = (
        # A slot is never given twice while a consultation holds it (only cancelling frees
        # it). Overlap across slots of one specialist is refused by an exclusion constraint
        # (PostgreSQL) or a trigger (SQLite), both created in the migration.
        Index(
            "uq_consultations_active_slot",
            "slot_id",
            unique=True,
            postgresql_where=text(HOLDS_SLOT_SQL),
            sqlite_where=text(HOLDS_SLOT_SQL),
        ),
        Index("ix_consultations_queue", "urgency_rank", "sort_at", "id"),
        Index("ix_consultations_requester", "requester_id", "urgency_rank", "sort_at"),
        Index("ix_consultations_specialist", "specialist_id", "urgency_rank", "sort_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("patients.id"), index=True)
    requester_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    specialist_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    facility_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("facilities.id"))
    region: Mapped[str | None] = mapped_column(String(40))
    specialty: Mapped[str] = mapped_column(String(40), index=True)
    mode: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    urgency_rank: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str] = mapped_column(Text)
    slot_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("slots.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Queue order: the slot time for video, the request time for async cases.
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conclusion: Mapped[str | None] = mapped_column(Text)
    # Video: seconds its call had two people connected, set on completion from the join and
    # leave times (None: the call was never joined, or it completed before this was kept).
    call_seconds: Mapped[float | None] = mapped_column(Float)


class IdempotencyRecord(Base):
    """The first answer to a POST sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsultationParticipant(UUIDPrimaryKey, Base):
    """A specialist invited into a consultation by its specialist (a multidisciplinary
    consultation): sees it in their queue, joins its call and chat; reads the passport only
    once the patient has confirmed the consent request made with the invitation."""

    __tablename__ = "consultation_participants"
    __table_args__ = (
        UniqueConstraint("consultation_id", "user_id", name="uq_consultation_participants_user"),
        Index("ix_consultation_participants_user", "user_id", "consultation_id"),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("consultations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    invited_by: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The request for the patient's consent made with the invitation.
    consent_request_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
