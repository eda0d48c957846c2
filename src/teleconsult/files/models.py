from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class StoredFile(UUIDPrimaryKey, Base):
    """One uploaded file: its content is the blob named by ``sha256``.

    It belongs to its uploader until it is attached: to a consultation (a referral's or an
    async case's files) or to a passport entry (``entry_id``: the entry whose document
    carries its hash, so the passport's chain covers it)."""

    __tablename__ = "files"

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    uploader_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    # What the pages show instead of a preview (a DICOM study's date, modality ...).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)


class FileBlob(Base):
    """A blob kept in the database itself (PostgreSQL: every process reads the same files);
    on SQLite only a backup's copy carries blobs here."""

    __tablename__ = "file_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Upload(UUIDPrimaryKey, Base):
    """A resumable upload in progress (tus): its length, and how much has arrived."""

    __tablename__ = "file_uploads"

    uploader_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class UploadChunk(Base):
    """The chunks of an upload, kept until its last one arrives."""

    __tablename__ = "file_upload_chunks"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("file_uploads.id", ondelete="CASCADE"), primary_key=True
    )
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
