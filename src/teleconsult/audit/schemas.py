from __future__ import annotations

import uuid
from datetime import datetime

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
    reason: str
