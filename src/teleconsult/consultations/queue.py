"""The specialist's queue: today, upcoming and past, each page with what the specialist needs
to know of the patient (age, sex and region; never a record id)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import SpecialistSpecialty, User
from ..api import Ctx, Page, Router
from ..codes import Role
from ..db.paging import _coerce, decode_cursor, encode_cursor, keyset_page
from ..errors import ValidationFailed, field_error
from ..facilities.models import Facility
from ..patients.models import Patient
from .lifecycle import Status
from .models import Consultation
from .participants import invited_clause
from .schemas import ConsultationOut


class Period(StrEnum):
    today = "today"
    upcoming = "upcoming"
    past = "past"


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period = Period.today
    tz: str = Field(default="UTC", max_length=64, description="IANA time zone of 'today'")
    cursor: str | None = None
    limit: int = Field(default=20, ge=1, le=100)


class PatientSummary(BaseModel):
    """What the queue tells of a patient: enough to prepare, nothing that identifies."""

    age: int
    sex: str
    region: str | None


class QueueItem(ConsultationOut):
    patient: PatientSummary


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise field_error("tz", "not a known time zone", "time_zone_unknown") from None


PAST = (Status.completed.value, Status.no_show.value, Status.cancelled.value)


async def queue_page(
    session: AsyncSession, me: User, q: QueueQuery, *, now: datetime
) -> tuple[list[QueueItem], str | None]:
    zone = _zone(q.tz)
    today = now.astimezone(zone).date()
    day_start = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
    day_end = day_start + timedelta(days=1)
    # Theirs, or one they were invited into (a multidisciplinary consultation).
    mine = or_(Consultation.specialist_id == me.id, invited_clause(me.id))
    columns: list[Any] = [Consultation, Patient.birth_date, Patient.sex, Facility.region]
    stmt: Select[Any] = (
        select(*columns)
        .join(Patient, Patient.id == Consultation.patient_id)
        .outerjoin(Facility, Facility.id == Patient.facility_id)
    )
    if q.period == Period.today:
        claimable = and_(
            Consultation.specialist_id.is_(None),
            Consultation.status == Status.requested.value,
            exists().where(
                SpecialistSpecialty.user_id == me.id,
                SpecialistSpecialty.specialty == Consultation.specialty,
            ),
        )
        stmt = stmt.where(
            or_(
                and_(mine, Consultation.sort_at >= day_start, Consultation.sort_at < day_end),
                and_(mine, Consultation.status == Status.in_progress.value),
                claimable,
            )
        )
        order = [Consultation.urgency_rank, Consultation.sort_at, Consultation.id]
        rows, nxt = await keyset_page(session, stmt, order, q.cursor, q.limit, scalars=False)
    elif q.period == Period.upcoming:
        stmt = stmt.where(
            mine,
            Consultation.status == Status.scheduled.value,
            Consultation.sort_at >= day_end,
        )
        order = [Consultation.sort_at, Consultation.id]
        rows, nxt = await keyset_page(session, stmt, order, q.cursor, q.limit, scalars=False)
    else:
        stmt = stmt.where(mine, Consultation.status.in_(PAST))
        rows, nxt = await _newest_first(session, stmt, q.cursor, q.limit)
    items = []
    for consultation, birth, sex, region in rows:
        base = ConsultationOut.model_validate(consultation).model_dump()
        base.pop("call_opens_at", None)
        items.append(
            QueueItem(
                **base,
                patient=PatientSummary(
                    age=age_on(birth, today),
                    sex=sex,
                    region=region or consultation.region,
                ),
            )
        )
    return items, nxt


async def _newest_first(
    session: AsyncSession, stmt: Any, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Keyset paging by (sort_at, id) descending: the past, most recent first."""
    order = [Consultation.sort_at, Consultation.id]
    values = decode_cursor(cursor)
    if values is not None:
        if len(values) != 2:
            raise ValidationFailed("cursor: not a cursor", fields={"cursor": "not a cursor"})
        bounds = [_coerce(col, v) for col, v in zip(order, values, strict=True)]
        stmt = stmt.where(tuple_(*order) < tuple_(*bounds))
    stmt = stmt.order_by(Consultation.sort_at.desc(), Consultation.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).all())
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        nxt = encode_cursor([last.sort_at, last.id])
    return rows, nxt


router = Router("queue")


@router.get(
    "/queue",
    summary="The signed-in specialist's queue: today, upcoming or past",
    read_only=True,
    query=QueueQuery,
    response=Page[QueueItem],
    roles=[Role.specialist],
)
async def queue(ctx: Ctx) -> Page[QueueItem]:
    items, nxt = await queue_page(ctx.session, ctx.me, ctx.query, now=ctx.clock.now())
    return Page[QueueItem](items=items, next=nxt)


__all__ = ["QueueItem", "queue_page", "router"]
