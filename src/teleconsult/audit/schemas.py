from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..accounts.schemas import PersonOut


class AccessLogQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)
    newest_first: bool = Field(default=False, description="Newest events first")


class AccessLogEntry(BaseModel):
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor: PersonOut | None = Field(
        default=None, description="Who acted, by name (None for the system or an unknown user)"
    )
    action: str
    outcome: str
    reason: str = Field(description="The technical record, as sealed in the audit chain")
    event: str = Field(
        default="other", description="What happened, as a stable code (audit/wording.py)"
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What the page words the event with: people by name, access, parts of "
        "the passport, until when, why; never an id",
    )
