from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .rules import MAX_CHAT_CHARS


class CallTicketOut(BaseModel):
    ice_servers: list[dict[str, Any]]
    ws_url: str
    mode: Literal["p2p", "relay"]
    expires_in: int
    # The browser's RTCPeerConnection iceTransportPolicy ("relay": through TURN only).
    ice_transport_policy: Literal["all", "relay"] = "all"


class CallOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["p2p", "relay"] | None = None
    invite_patient: bool | None = None


class CallOptionsOut(BaseModel):
    mode: Literal["p2p", "relay"]
    patient_invited: bool
    record: bool = False
    # The patient invited: the phone (hinted) the call link is sent to by SMS, if any.
    patient_sms_to: str | None = None


class CallLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


class CallSessionOut(BaseModel):
    """A session for one consultation's call only (also set as the browser's cookies)."""

    token: str
    expires_at: datetime
    consultation_id: uuid.UUID


class RecordingConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    granted: bool


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field("", max_length=MAX_CHAT_CHARS)
    # The sender's own upload (POST /uploads), sent with the message; the text may then be empty.
    file_id: uuid.UUID | None = None


class ChatFileOut(BaseModel):
    """A file sent in the chat: read at /files/{id} (and /files/{id}/thumbnail)."""

    id: uuid.UUID
    name: str
    content_type: str
    size: int
    thumbnail: bool


class ChatMessageOut(BaseModel):
    id: uuid.UUID
    # Who wrote it (named by GET /people): two specialists may take part.
    author_id: uuid.UUID
    author_role: str
    # Whether the caller wrote it.
    mine: bool
    text: str
    created_at: datetime
    file: ChatFileOut | None = None


class ChatPageOut(BaseModel):
    items: list[ChatMessageOut]


class ToAsyncOut(BaseModel):
    id: uuid.UUID
    mode: str
    status: str
