"""Chat in a consultation, and turning a failing video call into an async case.

Chat messages are kept with the consultation (table ``chat_messages``, never the passport).
Only the consultation's participants write and read them: the requesting GP, the specialist
and, once invited to the call, the patient; anyone else gets 404 (nothing says the
consultation exists). A stored message goes to the call room over the bus (``call:<id>``,
kind ``chat``), so it reaches every participant in the call whichever process serves them,
even when their media does not flow, and to each participant's live events (``user:<id>``,
type ``chat``: ids only), so the consultation's page shows it without reopening.

A message may carry a file: the sender's own upload, attached to nothing yet; it is read by
the consultation's participants (``files/service.py: may_read``), audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..bus import EventBus
from ..bus.outbox import enqueue
from ..consultations import service as consultations
from ..consultations.lifecycle import IllegalTransition, Mode, Status
from ..consultations.models import ACTIVE_STATUSES, Consultation
from ..consultations.participants import people_ids, takes_part
from ..errors import Conflict, Forbidden, NotFound
from ..files import service as files
from ..files.models import StoredFile
from ..stats.rollups import facts_of, record_change
from .models import ChatMessage

MAX_CHAT_PAGE = 500


class ChatClosed(Conflict):
    default_detail = "The consultation is over: its messages can be read, not added to."
    default_code = "chat_closed"


async def participant_consultation(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID, *, for_update: bool = False
) -> Consultation:
    """The consultation, if ``actor`` takes part in it (404 otherwise, for every role)."""
    stmt = select(Consultation).where(Consultation.id == consultation_id)
    if for_update:
        stmt = stmt.with_for_update()
    consultation = await session.scalar(stmt)
    if consultation is None or not await takes_part(session, actor, consultation):
        raise NotFound(code="consultation_not_found")
    return consultation


def file_out(f: StoredFile | None) -> dict[str, Any] | None:
    """What a message shows of its file: the pages open it at ``/files/{id}``."""
    if f is None:
        return None
    return {
        "id": str(f.id),
        "name": f.name,
        "content_type": f.content_type,
        "size": f.size,
        "thumbnail": f.thumbnail_sha256 is not None,
    }


def message_out(message: ChatMessage, f: StoredFile | None = None) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "author_id": str(message.author_id),
        "author_role": message.author_role,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "file": file_out(f),
    }


async def post_message(
    session: AsyncSession,
    actor: User,
    consultation_id: uuid.UUID,
    text: str,
    now: datetime,
    *,
    file_id: uuid.UUID | None = None,
    client: str | None = None,
) -> tuple[ChatMessage, StoredFile | None]:
    consultation = await participant_consultation(session, actor, consultation_id)
    if consultation.status not in ACTIVE_STATUSES:
        # While a consultation is open its chat takes messages; afterwards it is read only.
        raise ChatClosed()
    f = None
    if file_id is not None:
        f = await files.send_in_chat(session, actor, file_id, consultation, now=now, client=client)
    message = ChatMessage(
        id=uuid.uuid4(),
        consultation_id=consultation_id,
        author_id=actor.id,
        author_role=actor.role,
        text=text,
        created_at=now,
        file_id=None if f is None else f.id,
    )
    session.add(message)
    await session.flush()
    # Published once the message is stored (the outbox), to the call room on every process,
    # and to the participants' live events (ids only: the page reads the chat).
    enqueue(
        session, f"call:{consultation_id}", {"kind": "chat", "message": message_out(message, f)}
    )
    event = {"type": "chat", "consultation_id": str(consultation_id), "message_id": str(message.id)}
    for user_id in sorted(await people_ids(session, consultation), key=str):
        enqueue(session, f"user:{user_id}", event)
    return message, f


async def messages(
    session: AsyncSession, actor: User, consultation_id: uuid.UUID
) -> list[tuple[ChatMessage, StoredFile | None]]:
    """The consultation's messages with their files, oldest first (at most the last 500)."""
    await participant_consultation(session, actor, consultation_id)
    rows = list(
        await session.scalars(
            select(ChatMessage)
            .where(ChatMessage.consultation_id == consultation_id)
            .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
            .limit(MAX_CHAT_PAGE)
        )
    )
    wanted = [m.file_id for m in rows if m.file_id is not None]
    found: dict[uuid.UUID, StoredFile] = {}
    if wanted:
        found = {
            f.id: f
            for f in await session.scalars(select(StoredFile).where(StoredFile.id.in_(wanted)))
        }
    return [(m, None if m.file_id is None else found.get(m.file_id)) for m in reversed(rows)]


class NotForAsync(IllegalTransition):
    default_detail = "Only a scheduled or running video consultation can become an async case."
    default_code = "to_async_not_possible"


async def to_async(
    session: AsyncSession, bus: EventBus, actor: User, consultation_id: uuid.UUID, now: datetime
) -> Consultation:
    """A video consultation whose call does not carry sound becomes an async case, kept by
    its specialist (in progress, in their queue), with its referral and everything written.
    Only its requesting GP or its specialist may do it."""
    consultation = await participant_consultation(session, actor, consultation_id, for_update=True)
    if actor.id not in (consultation.requester_id, consultation.specialist_id):
        raise Forbidden(
            "Only the consultation's GP or specialist can do this.", code="action_not_yours"
        )
    if consultation.mode != Mode.video or consultation.status not in (
        Status.scheduled,
        Status.in_progress,
    ):
        raise NotForAsync()
    before = facts_of(consultation)
    consultation.mode = Mode.async_.value
    consultation.status = Status.in_progress.value
    consultation.started_at = consultation.started_at or now
    consultation.sort_at = now
    await session.flush()
    await record_change(session, before, consultation)
    await consultations.publish_change(session, bus, consultation, "to-async")
    return consultation
