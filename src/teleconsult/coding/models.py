"""What was suggested for a note and what its author chose: the measure of the suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class CodingFeedback(UUIDPrimaryKey, Base):
    """One row per note written with coding help.

    ``suggested`` holds the codes offered, best first, and ``chosen`` the diagnoses the note
    carries; no text of the note. No foreign key to the passport entry, like every table that
    points into the hash-chained passport.
    """

    __tablename__ = "coding_feedback"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    consultation_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    suggested: Mapped[list[str]] = mapped_column(JSON)
    chosen: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
