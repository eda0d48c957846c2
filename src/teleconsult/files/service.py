"""Files attached to consultations and passport entries, and who may read them.

- A file belongs to its uploader until it is attached.
- A referral's (or async case's) files: attached by the requesting GP or the specialist
  from booking until the consultation ends; read by those two, audited.
- A passport attachment's file: its hash is in the entry's document (the chain covers it);
  reading it is a read of the passport's attachments: the same consent decision, audited.
- A file sent in a consultation's chat (its message names it): sent by its uploader while
  the consultation is open, attached to nothing before; read by whoever takes part in the
  consultation (``consultations/participants.py: takes_part``), audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit import service as audit
from ..calls.models import ChatMessage
from ..config import Settings
from ..consent.decision import authorize
from ..consent.policy import Access, Category
from ..consultations.lifecycle import Status
from ..consultations.models import Consultation
from ..consultations.participants import is_invited, takes_part
from ..consultations.service import get_consultation
from ..errors import Conflict, DomainError, Forbidden, NotFound
from .models import StoredFile
from .schemas import FileOut
from .store import BlobProblem, get, store_for

OPEN = frozenset({Status.requested.value, Status.scheduled.value, Status.in_progress.value})


class FileUnavailable(DomainError):
    status = 409
    default_detail = "The stored file is missing or no longer matches its hash."
    default_code = "file_unavailable"


def file_out(f: StoredFile) -> FileOut:
    return FileOut(
        id=f.id,
        name=f.name,
        content_type=f.content_type,
        size=f.size,
        sha256=f.sha256,
        created_at=f.created_at,
        uploader_id=f.uploader_id,
        thumbnail=f.thumbnail_sha256 is not None,
        meta=f.meta or {},
        consultation_id=f.consultation_id,
        entry_id=f.entry_id,
    )


def _participant(user: User, c: Consultation) -> bool:
    return user.id in (c.requester_id, c.specialist_id)


async def _reader(session: AsyncSession, user: User, c: Consultation) -> bool:
    """Its GP and specialist, and the specialists invited into it, read a referral's files."""
    return _participant(user, c) or await is_invited(session, c.id, user.id)


def not_found() -> NotFound:
    return NotFound(code="file_not_found")


async def chat_of(session: AsyncSession, file_id: uuid.UUID) -> uuid.UUID | None:
    """The consultation in whose chat the file was sent, if it was."""
    return await session.scalar(
        select(ChatMessage.consultation_id).where(ChatMessage.file_id == file_id)
    )


async def own_unattached(
    session: AsyncSession, user: User, file_id: uuid.UUID, consultation_id: uuid.UUID
) -> StoredFile:
    """A file the caller uploaded, not yet in the passport nor in a chat, and attached to
    nothing or to this consultation."""
    f = await session.get(StoredFile, file_id, with_for_update=True)
    if f is None or f.uploader_id != user.id or f.entry_id is not None:
        raise not_found()
    if f.consultation_id not in (None, consultation_id):
        raise not_found()
    if await chat_of(session, f.id) is not None:
        raise not_found()
    return f


async def send_in_chat(
    session: AsyncSession,
    user: User,
    file_id: uuid.UUID,
    consultation: Consultation,
    *,
    now: datetime,
    client: str | None,
) -> StoredFile:
    """The caller's own upload, attached to nothing yet, to be sent in the consultation's
    chat (the caller takes part in it: ``calls/chat.py`` checked)."""
    f = await own_unattached(session, user, file_id, consultation.id)
    if f.consultation_id is not None:
        raise not_found()
    f.patient_id = consultation.patient_id
    await _audit_attach(session, user, f, "sent in the consultation's chat", now, client)
    return f


async def _audit_attach(
    session: AsyncSession,
    user: User,
    f: StoredFile,
    where: str,
    now: datetime,
    client: str | None,
) -> None:
    """A file attached, in the patient's chain: its type and hash, never its name."""
    await audit.record(
        session,
        patient_id=f.patient_id,
        actor_id=user.id,
        action="file.attach",
        outcome="ok",
        reason=f"{f.content_type} file {f.sha256} {where}",
        at=now,
        client=client,
    )


async def attach_to_consultation(
    session: AsyncSession,
    user: User,
    consultation_id: uuid.UUID,
    file_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
) -> FileOut:
    consultation = await get_consultation(session, user, consultation_id)
    if not _participant(user, consultation):
        raise Forbidden(
            "Only the consultation's GP or specialist adds files to it.", code="files_writer_only"
        )
    if consultation.status not in OPEN:
        raise Conflict(
            "Files are added from booking until the consultation ends.", code="files_closed"
        )
    f = await own_unattached(session, user, file_id, consultation.id)
    f.consultation_id = consultation.id
    f.patient_id = consultation.patient_id
    await _audit_attach(session, user, f, "attached to the referral", now, client)
    await session.flush()
    return file_out(f)


async def consultation_files(
    session: AsyncSession, user: User, consultation_id: uuid.UUID
) -> list[FileOut]:
    consultation = await get_consultation(session, user, consultation_id)
    if not await _reader(session, user, consultation):
        raise Forbidden(
            "Only the consultation's GP or specialist sees its files.", code="files_reader_only"
        )
    rows = await session.scalars(
        select(StoredFile)
        .where(StoredFile.consultation_id == consultation.id, StoredFile.entry_id.is_(None))
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    return [file_out(f) for f in rows]


async def may_read(
    session: AsyncSession,
    user: User,
    f: StoredFile,
    *,
    now: datetime,
    client: str | None,
    call_only: uuid.UUID | None = None,
) -> None:
    """Raise unless the caller may read the file; every read of an attached file is audited
    (a denial too: the consent decision's audit entry outlives the failed request). A
    call-only session (``call_only``: its consultation) reads only that chat's files."""
    if call_only is not None and (
        f.entry_id is not None
        or f.consultation_id is not None
        or await chat_of(session, f.id) != call_only
    ):
        raise not_found()
    if f.entry_id is not None and f.patient_id is not None:
        await authorize(
            session,
            user,
            f.patient_id,
            access=Access.read,
            needed=frozenset({Category.attachments.value}),
            action="passport.read",
            now=now,
            client=client,
        )
        return
    chat = await chat_of(session, f.id) if f.consultation_id is None else None
    if f.consultation_id is not None or chat is not None:
        consultation = await session.get(Consultation, chat or f.consultation_id)
        # A referral's file: its readers; a file sent in the chat: whoever takes part.
        allowed = consultation is not None and (
            await takes_part(session, user, consultation)
            if chat is not None
            else await _reader(session, user, consultation)
        )
        if consultation is None or not allowed:
            raise not_found()
        where = "the consultation's chat" if chat is not None else "the referral"
        await audit.record(
            session,
            patient_id=consultation.patient_id,
            actor_id=user.id,
            action="file.read",
            outcome="ok",
            reason=f"{f.content_type} file {f.sha256} of {where}",
            at=now,
            client=client,
        )
        return
    if f.uploader_id != user.id:
        raise not_found()


async def read_file(
    session: AsyncSession,
    user: User,
    file_id: uuid.UUID,
    settings: Settings,
    *,
    thumbnail: bool,
    now: datetime,
    client: str | None,
    call_only: uuid.UUID | None = None,
) -> tuple[StoredFile, bytes]:
    """The file's bytes (or its thumbnail's), checked against their hash."""
    f = await session.get(StoredFile, file_id)
    if f is None:
        raise not_found()
    await may_read(session, user, f, now=now, client=client, call_only=call_only)
    sha256 = f.thumbnail_sha256 if thumbnail else f.sha256
    if sha256 is None:
        raise NotFound("This file has no thumbnail.", code="file_no_thumbnail")
    try:
        data = await get(store_for(settings, session), session, sha256)
    except BlobProblem as exc:
        raise FileUnavailable(str(exc)) from None
    return f, data


async def attachment_body(
    session: AsyncSession, user: User, consultation_id: uuid.UUID, body: dict[str, Any]
) -> tuple[dict[str, Any], StoredFile | None]:
    """A passport attachment's body with its file's hash, type, size and name written in."""
    file_id = body.get("file_id")
    if file_id is None:
        return body, None
    f = await own_unattached(session, user, uuid.UUID(str(file_id)), consultation_id)
    return {
        **body,
        "file_id": str(f.id),
        "sha256": f.sha256,
        "content_type": f.content_type,
        "size": f.size,
        "name": f.name,
        "meta": f.meta or {},
        "url": None,
    }, f
