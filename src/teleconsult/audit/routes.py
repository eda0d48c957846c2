from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..accounts.schemas import PersonOut
from ..api import Ctx, Page, Router
from ..codes import Role
from ..db.paging import encode_cursor, seq_cursor
from . import service

router = Router("audit")


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


@router.get(
    "/patients/{id}/access-log",
    summary="Who accessed the patient's data, and how (the patient and administrators)",
    query=AccessLogQuery,
    response=Page[AccessLogEntry],
    roles=[Role.patient, Role.admin],
)
async def access_log(ctx: Ctx) -> Page[AccessLogEntry]:
    q: AccessLogQuery = ctx.query
    items, last = await service.read_access_log(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        cursor_seq=seq_cursor(q.cursor),
        limit=q.limit,
        now=ctx.clock.now(),
        client=ctx.client,
        newest_first=q.newest_first,
    )
    return Page[AccessLogEntry](
        items=[AccessLogEntry.model_validate(i) for i in items],
        next=encode_cursor([last]) if last is not None else None,
    )
