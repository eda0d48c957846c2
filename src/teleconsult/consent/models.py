from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey


class ConsentGrant(UUIDPrimaryKey, Base):
    """A patient's permission for a user or a facility to read (or also write) the passport.

    ``categories`` NULL means every category. A grant is never deleted: revocation stamps
    ``revoked_at`` and takes effect on the very next request.
    """

    __tablename__ = "consent_grants"
    __table_args__ = (
        CheckConstraint(
            "(grantee_user_id IS NULL) != (grantee_facility_id IS NULL)", name="one_grantee"
        ),
        CheckConstraint("access IN ('read', 'read_write')", name="access"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("patients.id"), index=True)
    grantee_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    grantee_facility_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("facilities.id"))
    access: Mapped[str] = mapped_column(String(10))
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    # "portal" (the patient's own account) or "one_time_code" (confirmed at the point of care).
    source: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ConsentRequest(UUIDPrimaryKey, Base):
    """A clinician's request for consent, confirmed by the patient or by a one-time code."""

    __tablename__ = "consent_requests"
    __table_args__ = (Index("ix_consent_requests_patient_status", "patient_id", "status"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("patients.id"))
    grantee_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    access: Mapped[str] = mapped_column(String(10))
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("consultations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # pending → confirmed; a request is never reopened.
    status: Mapped[str] = mapped_column(String(12))
    # HMAC of the current one-time code (never the code itself), its expiry and wrong tries.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class BreakGlassSession(UUIDPrimaryKey, Base):
    """Emergency read access opened by a clinician with a written reason, for a few hours."""

    __tablename__ = "break_glass_sessions"
    __table_args__ = (Index("ix_break_glass_sessions_patient_actor", "patient_id", "actor_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("patients.id"))
    actor_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the session is ended by hand or found expired; its end is audited then.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
