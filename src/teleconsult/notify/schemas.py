from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class MessageOut(BaseModel):
    """A message as its recipient sees it: never its code or link."""

    id: uuid.UUID
    kind: str
    channel: str
    to: str
    created_at: datetime
    # When a waiting message (a reminder, a retry) is next due; null once sent.
    due_at: datetime | None
    sent_at: datetime | None
    # The consultation it is about, if any; when its recipient opened it in the pages.
    consultation_id: uuid.UUID | None = None
    read_at: datetime | None = None
    # The words of a message shown in the pages (channel "page": it carries no code or link).
    text: str | None = None


class MessageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)


class MessagesRead(BaseModel):
    """Messages opened in the pages (one's own; any other id is ignored)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(min_length=1, max_length=200)


class UnreadOut(BaseModel):
    """How many delivered messages the caller has not opened (the bell's count)."""

    count: int


class MessageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminders: bool


class OutboxMessageOut(BaseModel):
    """A message as the development outbox shows it: its whole text (development only)."""

    id: uuid.UUID
    kind: str
    channel: str
    to: str
    language: str
    text: str
    created_at: datetime
    due_at: datetime | None
    sent_at: datetime | None
    attempts: int
    last_error: str | None
