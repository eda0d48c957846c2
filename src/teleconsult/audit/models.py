from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UUIDPrimaryKey

# Events that concern no patient (logins) go to this chain.
SYSTEM_CHAIN = "system"


class AuditEntry(UUIDPrimaryKey, Base):
    """One audited event, hash-chained per patient (``chain`` is the patient id or 'system').

    ``document`` is the canonical JSON (at, actor, action, outcome, reason, client) and the
    record of truth. The database refuses UPDATE and DELETE on this table (migration 0002).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
