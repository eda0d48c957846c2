from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from ..consent.access_log import read_access_log
from ..db.paging import encode_cursor, seq_cursor
from .schemas import AccessLogEntry, AccessLogQuery

router = Router("audit")


@router.get(
    "/patients/{id}/access-log",
    summary="Who accessed the patient's data, and how (the patient and administrators)",
    query=AccessLogQuery,
    response=Page[AccessLogEntry],
    roles=[Role.patient, Role.admin],
)
async def access_log(ctx: Ctx) -> Page[AccessLogEntry]:
    q: AccessLogQuery = ctx.query
    items, last = await read_access_log(
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
