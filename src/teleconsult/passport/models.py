from __future__ import annotations

import uuid

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey


class PassportEntry(UUIDPrimaryKey, Base):
    """One entry of a patient's passport: a note, diagnosis, prescription, lab result, ...

    ``document`` is the canonical JSON of the entry (kind, author, consultation, body, time,
    amended entry) and the record of truth; ``patient_id`` and ``seq`` locate it in the
    patient's chain, and ``kind`` and ``amends`` repeat what reads filter and link by.
    Verification checks that these columns say what the document says. The database refuses
    UPDATE and DELETE on this table (migration 0002).
    """

    __tablename__ = "passport_entries"
    __table_args__ = (
        UniqueConstraint("patient_id", "seq"),
        # Corrections are rare: reads find them without reading the whole passport.
        Index(
            "ix_passport_entries_corrections",
            "patient_id",
            postgresql_where=text("amends IS NOT NULL"),
            sqlite_where=text("amends IS NOT NULL"),
        ),
    )

    # No foreign key: the chain must stay verifiable whatever happens to other tables.
    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    amends: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    document: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
