"""Resumable uploads (a subset of tus 1.0: creation, PATCH at an offset, HEAD to resume).

An upload is declared with its length first: one over ``TELECONSULT_MAX_UPLOAD_MB`` is
refused (413) before a byte is kept. Its first chunk must announce an accepted type (415
otherwise); chunks are kept in the database until the last one arrives, so that any process
can take the next chunk. The whole file is then checked (:func:`content.prepare`), stripped
of metadata, stored by its SHA-256, and becomes a file of its uploader.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..config import Settings
from ..errors import BadRequest, Conflict, NotFound
from .content import PayloadTooLarge, Prepared, prepare, refused_type, sniff
from .models import StoredFile, Upload, UploadChunk
from .store import digest, store_for

# Abandoned uploads are dropped after this long.
STALE = timedelta(days=1)
MAX_NAME = 200
SNIFF = 262


def limit(settings: Settings) -> int:
    return int(settings.max_upload_mb) * 1024 * 1024


def too_large(settings: Settings) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Files up to {settings.max_upload_mb} MB are accepted.", code="file_too_large"
    )


def clean_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_NAME] or "file"


async def create(
    session: AsyncSession, user: User, length: int, name: str, settings: Settings, now: datetime
) -> Upload:
    if length <= 0:
        raise BadRequest("Upload-Length must be a positive number.", code="upload_length")
    if length > limit(settings):
        raise too_large(settings)
    await session.execute(
        delete(Upload).where(Upload.uploader_id == user.id, Upload.created_at < now - STALE)
    )
    upload = Upload(
        id=uuid.uuid4(),
        uploader_id=user.id,
        length=length,
        received=0,
        name=clean_name(name),
        created_at=now,
    )
    session.add(upload)
    await session.flush()
    return upload


async def find(
    session: AsyncSession, user: User, upload_id: uuid.UUID, lock: bool = False
) -> Upload:
    stmt = select(Upload).where(Upload.id == upload_id, Upload.uploader_id == user.id)
    if lock:
        stmt = stmt.with_for_update()
    upload = await session.scalar(stmt)
    if upload is None:
        raise NotFound(code="upload_not_found")
    return upload


async def append(
    session: AsyncSession,
    user: User,
    upload_id: uuid.UUID,
    offset: int,
    data: bytes,
    settings: Settings,
    now: datetime,
) -> tuple[Upload, StoredFile | None]:
    """Add a chunk at ``offset``; the last one turns the upload into a stored file."""
    upload = await find(session, user, upload_id, lock=True)
    if upload.file_id is not None:
        f = await session.get(StoredFile, upload.file_id)
        return upload, f
    if offset != upload.received:
        raise Conflict(f"The upload is at offset {upload.received}.", code="upload_offset_mismatch")
    if upload.received + len(data) > upload.length:
        raise too_large(settings)
    # The first chunk tells the type when it holds the signatures' bytes (DICOM's is at
    # 128, filetype reads 261); a smaller one is judged with the whole file.
    if offset == 0 and len(data) >= SNIFF and sniff(data[:8192]) is None:
        raise refused_type()
    if data:
        session.add(UploadChunk(upload_id=upload.id, offset=offset, size=len(data), data=data))
        upload.received += len(data)
    if upload.received < upload.length:
        await session.flush()
        return upload, None
    return upload, await _finish(session, upload, settings, now)


def _prepared(whole: bytes) -> tuple[Prepared, str, str | None]:
    prepared = prepare(whole)
    thumbnail = digest(prepared.thumbnail) if prepared.thumbnail is not None else None
    return prepared, digest(prepared.data), thumbnail


async def _finish(
    session: AsyncSession, upload: Upload, settings: Settings, now: datetime
) -> StoredFile:
    await session.flush()
    chunks = await session.scalars(
        select(UploadChunk.data)
        .where(UploadChunk.upload_id == upload.id)
        .order_by(UploadChunk.offset)
    )
    whole = b"".join(bytes(c) for c in chunks)
    # Decoding, stripping, thumbnailing and hashing up to the size limit is CPU work:
    # the event loop stays free for everyone else meanwhile.
    prepared, sha256, thumbnail = await asyncio.to_thread(_prepared, whole)
    store = store_for(settings, session)
    await store.put(session, sha256, prepared.data)
    if prepared.thumbnail is not None and thumbnail is not None:
        await store.put(session, thumbnail, prepared.thumbnail)
    f = StoredFile(
        id=uuid.uuid4(),
        sha256=sha256,
        content_type=prepared.content_type,
        size=len(prepared.data),
        name=upload.name,
        uploader_id=upload.uploader_id,
        created_at=now,
        thumbnail_sha256=thumbnail,
        meta=prepared.meta,
    )
    session.add(f)
    upload.file_id = f.id
    await session.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload.id))
    await session.flush()
    return f


async def discard(session: AsyncSession, uploader_id: uuid.UUID, upload_id: uuid.UUID) -> None:
    """Forget a refused upload and its chunks."""
    await session.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload_id))
    await session.execute(
        delete(Upload).where(Upload.id == upload_id, Upload.uploader_id == uploader_id)
    )
