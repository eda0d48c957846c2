"""One row per message to one person on one channel, from its change until it is delivered."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, utcnow


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_due", "sent_at", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # What it says (a key of the catalogues' "notify." texts) and in which language.
    kind: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(10))  # "sms", "email" or "app"
    # The phone number or e-mail address; patient data, never logged.
    address: Mapped[str] = mapped_column(String(200))
    # The text's placeholders. Secret ones (a code, a link) are wiped once it is delivered.
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    secret_params: Mapped[list[str]] = mapped_column(JSON, default=list)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # The consultation a booking message or reminder is about (a cancel drops its reminders).
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The relay's claim: a message is tried when this has passed, and then set ahead by a
    # lease (a process that dies mid-send leaves it to be tried again) or by the back-off.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # When its recipient opened it in the pages (the bell counts the others).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessagePreference(Base):
    """What a patient chose to receive. Codes cannot be turned off: without them a doctor
    could not be given access from a clinic's desk."""

    __tablename__ = "message_preferences"

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
