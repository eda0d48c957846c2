"""A patient's own consultations, as the patient reads them: upcoming (soonest first) with
when the call opens, and past (latest first) with the specialist's conclusion.

Only the patient themself reads this list; another patient's id is a 404, so the answer never
tells whether someone else is a patient.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.directory import people
from ..accounts.models import User
from ..accounts.schemas import PersonOut
from ..api import Ctx, Page, Router
from ..calls.models import CallOptions
from ..calls.rules import call_is_open
from ..codes import Role
from ..db.paging import _coerce, _not_a_cursor, decode_cursor, encode_cursor
from ..errors import NotFound
from .lifecycle import JOIN_EARLY, Mode, Status, Urgency
from .models import ACTIVE_STATUSES, Consultation

router = Router("my-consultations")


class When(StrEnum):
    upcoming = "upcoming"
    past = "past"


class MineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: When = When.upcoming
    cursor: str | None = None
    limit: int = Field(default=20, ge=1, le=100)


class MyConsultationOut(BaseModel):
    """One of the patient's consultations: no internal ids beyond its own."""

    id: uuid.UUID
    status: Status
    specialty: str
    mode: Mode
    urgency: Urgency
    reason: str
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    ended_at: datetime | None
    cancelled_at: datetime | None
    conclusion: str | None
    specialist: PersonOut | None = Field(default=None, description="The specialist, by name")
    requester: PersonOut | None = Field(default=None, description="The GP who referred it")
    call_open: bool = Field(description="Whether the video call is open now")
    call_invited: bool = Field(
        default=False, description="Whether the patient is invited to join the call themself"
    )
    call_opens_at: datetime | None = Field(
        default=None, description="When the video call opens (15 minutes before its start)"
    )


def _page_stmt(patient_id: uuid.UUID, when: When) -> Select[Any]:
    stmt = select(Consultation).where(Consultation.patient_id == patient_id)
    if when == When.upcoming:
        return stmt.where(Consultation.status.in_(ACTIVE_STATUSES))
    return stmt.where(Consultation.status.not_in(ACTIVE_STATUSES))


async def my_consultations(
    session: AsyncSession,
    actor: User,
    patient_id: uuid.UUID,
    q: MineQuery,
    *,
    now: datetime,
) -> tuple[list[MyConsultationOut], str | None]:
    """A page of the patient's own consultations: upcoming soonest first, past latest first."""
    if actor.role != Role.patient or actor.patient_id != patient_id:
        raise NotFound()
    order = [Consultation.sort_at, Consultation.id]
    stmt = _page_stmt(patient_id, q.when)
    newest_first = q.when == When.past
    values = decode_cursor(q.cursor)
    if values is not None:
        if len(values) != len(order):
            raise _not_a_cursor()
        bounds = [
            literal(_coerce(col, v), type_=col.type) for col, v in zip(order, values, strict=True)
        ]
        after = (
            tuple_(*order) < tuple_(*bounds) if newest_first else tuple_(*order) > tuple_(*bounds)
        )
        stmt = stmt.where(after)
    stmt = stmt.order_by(*(c.desc() if newest_first else c for c in order)).limit(q.limit + 1)
    rows = list((await session.scalars(stmt)).all())
    nxt = None
    if len(rows) > q.limit:
        rows = rows[: q.limit]
        nxt = encode_cursor([getattr(rows[-1], c.key) for c in order])
    invited = set(
        await session.scalars(
            select(CallOptions.consultation_id).where(
                CallOptions.consultation_id.in_([r.id for r in rows]),
                CallOptions.patient_invited.is_(True),
            )
        )
        if rows
        else []
    )
    named = await people(
        session,
        [r.specialist_id for r in rows] + [r.requester_id for r in rows],
        patient_id=patient_id,
    )
    items = [
        MyConsultationOut(
            id=r.id,
            status=Status(r.status),
            specialty=r.specialty,
            mode=Mode(r.mode),
            urgency=Urgency(r.urgency),
            reason=r.reason,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            created_at=r.created_at,
            ended_at=r.ended_at,
            cancelled_at=r.cancelled_at,
            conclusion=r.conclusion,
            specialist=named.get(r.specialist_id) if r.specialist_id else None,
            requester=named.get(r.requester_id),
            call_invited=r.id in invited,
            call_open=r.mode == Mode.video and call_is_open(r.status, r.starts_at, r.ends_at, now),
            call_opens_at=(
                r.starts_at - JOIN_EARLY
                if r.mode == Mode.video and r.starts_at is not None
                else None
            ),
        )
        for r in rows
    ]
    return items, nxt


@router.get(
    "/patients/{id}/consultations",
    summary="The patient's own consultations, upcoming or past",
    read_only=True,
    query=MineQuery,
    response=Page[MyConsultationOut],
    roles=[Role.patient],
)
async def list_mine(ctx: Ctx) -> Page[MyConsultationOut]:
    items, nxt = await my_consultations(
        ctx.session, ctx.me, ctx.path_id(), ctx.query, now=ctx.clock.now()
    )
    return Page[MyConsultationOut](items=items, next=nxt)
