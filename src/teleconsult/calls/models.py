from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class CallTicket(Base):
    """A one-time pass into a call's websocket; only its SHA-256 is stored."""

    __tablename__ = "call_tickets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    consultation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("consultations.id"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sign-in session it was issued under (its token's hash): the call ends with it.
    session_hash: Mapped[str | None] = mapped_column(String(64))


class CallLink(Base):
    """A one-time link, sent by SMS when the call opens, that lets the invited patient join
    the call from a phone without a password: valid only inside the call's window, once.
    Only its SHA-256 is stored (the token itself exists only in the SMS)."""

    __tablename__ = "call_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    consultation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("consultations.id"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallParticipation(UUIDPrimaryKey, Base):
    """One participant's stay in a call, from joining to leaving; durations come from here."""

    __tablename__ = "call_participations"
    __table_args__ = (
        Index("ix_call_participations_consultation", "consultation_id", "joined_at"),
        CheckConstraint("left_at IS NULL OR left_at >= joined_at", name="left_after_joined"),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("consultations.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    peer_id: Mapped[str] = mapped_column(String(40), unique=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallOptions(Base):
    """Per-consultation call choices: media mode, the patient's invitation, recording."""

    __tablename__ = "call_options"
    __table_args__ = (CheckConstraint("mode IS NULL OR mode IN ('p2p', 'relay')", name="mode"),)

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("consultations.id"), primary_key=True
    )
    mode: Mapped[str | None] = mapped_column(String(10))
    patient_invited: Mapped[bool] = mapped_column(Boolean, default=False)
    record: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatMessage(UUIDPrimaryKey, Base):
    """A text message between a consultation's participants: kept with the consultation
    (never in the passport), sent during the call or after it."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_consultation", "consultation_id", "created_at"),
        Index("ux_chat_messages_file", "file_id", unique=True),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("consultations.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A file sent with the message (``files.id``): read by the consultation's participants.
    file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
