"""The administrator's "declared but not delivered" report, each flag's evidence, and the
audited resolution of a flag."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.directory import people
from ..accounts.models import User
from ..audit.service import record
from ..calls.models import CallParticipation
from ..consultations.models import Consultation
from ..db.paging import keyset_page
from ..errors import Conflict, NotFound
from ..facilities.models import Facility
from ..facilities.names import current_language, localized
from ..stats.cells import month_of, next_month, report_days, reporting_day, start_of
from .flags import Reason
from .models import ProofFlag
from .schemas import FlagOut, FlagQuery, FlagStatus, Report, ReportQuery, ReportRow, StayOut


class FlagResolved(Conflict):
    default_detail = "This flag has already been resolved."
    default_code = "proof_flag_resolved"


def _status_filter(stmt: Select[Any], status: FlagStatus) -> Select[Any]:
    if status == FlagStatus.open:
        return stmt.where(ProofFlag.resolved_at.is_(None))
    if status == FlagStatus.resolved:
        return stmt.where(ProofFlag.resolved_at.is_not(None))
    return stmt


async def _facility_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    language = current_language()
    rows = await session.execute(
        select(Facility.id, Facility.name, Facility.name_kk, Facility.name_ru).where(
            Facility.id.in_(ids)
        )
    )
    return {fid: localized(n, kk, ru, language) for fid, n, kk, ru in rows}


async def report(session: AsyncSession, q: ReportQuery, today: date) -> Report:
    """Counts by month, facility and specialist, newest month first."""
    start, to = report_days(q.from_, q.to, today)
    stmt: Select[Any] = select(  # type: ignore[assignment]
        ProofFlag.consultation_id,
        ProofFlag.reason,
        ProofFlag.facility_id,
        ProofFlag.specialist_id,
        ProofFlag.completed_at,
        ProofFlag.resolved_at,
    ).where(
        ProofFlag.completed_at >= start_of(start),
        ProofFlag.completed_at < start_of(to + timedelta(days=1)),
    )
    rows = (await session.execute(_status_filter(stmt, q.status))).all()
    groups: dict[tuple[date, uuid.UUID | None, uuid.UUID | None], dict[str, Any]] = defaultdict(
        lambda: {"consultations": set(), "open": 0, "resolved": 0} | {r.value: 0 for r in Reason}
    )
    for cid, reason, facility_id, specialist_id, completed_at, resolved_at in rows:
        g = groups[(month_of(reporting_day(completed_at)), facility_id, specialist_id)]
        g["consultations"].add(cid)
        g[reason] = g.get(reason, 0) + 1
        g["resolved" if resolved_at is not None else "open"] += 1
    facilities = await _facility_names(session, {k[1] for k in groups if k[1] is not None})
    named = await people(session, (k[2] for k in groups))
    items = [
        ReportRow(
            month=month,
            facility_id=facility_id,
            facility=facilities.get(facility_id) if facility_id else None,
            specialist_id=specialist_id,
            specialist=named[specialist_id].name if specialist_id in named else None,
            consultations=len(g["consultations"]),
            no_joint_minute=g[Reason.no_joint_minute.value],
            no_conclusion=g[Reason.no_conclusion.value],
            before_slot=g[Reason.before_slot.value],
            open=g["open"],
            resolved=g["resolved"],
        )
        for (month, facility_id, specialist_id), g in groups.items()
    ]
    items.sort(key=lambda r: (-r.month.toordinal(), r.facility or "", r.specialist or ""))
    return Report(from_date=start, to_date=to, items=items)


CSV_COLUMNS = [
    "month",
    "facility",
    "specialist",
    "consultations",
    "no_joint_minute",
    "no_conclusion",
    "before_slot",
    "open",
    "resolved",
]


def to_csv(rep: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rep.items:
        values = row.model_dump()
        values["month"] = row.month.strftime("%Y-%m")
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return out.getvalue()


async def _evidence(
    session: AsyncSession, pairs: list[tuple[ProofFlag, Consultation]]
) -> list[FlagOut]:
    """Each flag with its consultation, the call's stays and the people named (a few queries
    for the whole page)."""
    cids = {c.id for _, c in pairs}
    stays: dict[uuid.UUID, list[CallParticipation]] = defaultdict(list)
    if cids:
        for stay in await session.scalars(
            select(CallParticipation)
            .where(CallParticipation.consultation_id.in_(cids))
            .order_by(CallParticipation.joined_at, CallParticipation.id)
        ):
            stays[stay.consultation_id].append(stay)
    user_ids: set[uuid.UUID | None] = set()
    for flag, c in pairs:
        user_ids |= {c.specialist_id, flag.resolved_by}
        user_ids |= {s.user_id for s in stays[c.id]}
    named = await people(session, user_ids)
    facilities = await _facility_names(
        session, {c.facility_id for _, c in pairs if c.facility_id is not None}
    )
    return [
        FlagOut(
            id=flag.id,
            consultation_id=c.id,
            reason=Reason(flag.reason),
            specialty=c.specialty,
            mode=c.mode,
            starts_at=c.starts_at,
            started_at=c.started_at,
            completed_at=flag.completed_at,
            facility=facilities.get(c.facility_id) if c.facility_id else None,
            specialist=named.get(c.specialist_id) if c.specialist_id else None,
            connected_seconds=flag.connected_seconds,
            stays=[
                StayOut(
                    person=named.get(s.user_id),
                    role=s.role,
                    joined_at=s.joined_at,
                    left_at=s.left_at,
                )
                for s in stays[c.id]
            ],
            resolved_at=flag.resolved_at,
            resolved_by=named.get(flag.resolved_by) if flag.resolved_by else None,
            resolution=flag.resolution,
        )
        for flag, c in pairs
    ]


async def list_flags(session: AsyncSession, q: FlagQuery) -> tuple[list[FlagOut], str | None]:
    """A page of flags with their evidence, oldest completion first."""
    stmt: Select[Any] = select(ProofFlag, Consultation).join(  # type: ignore[assignment]
        Consultation, Consultation.id == ProofFlag.consultation_id
    )
    if q.month is not None:
        month = month_of(q.month)
        stmt = stmt.where(
            ProofFlag.completed_at >= start_of(month),
            ProofFlag.completed_at < start_of(next_month(month)),
        )
    if q.facility_id is not None:
        stmt = stmt.where(ProofFlag.facility_id == q.facility_id)
    if q.specialist_id is not None:
        stmt = stmt.where(ProofFlag.specialist_id == q.specialist_id)
    stmt = _status_filter(stmt, q.status)
    rows, nxt = await keyset_page(
        session, stmt, [ProofFlag.completed_at, ProofFlag.id], q.cursor, q.limit, scalars=False
    )
    return await _evidence(session, [(f, c) for f, c in rows]), nxt


async def resolve(
    session: AsyncSession,
    actor: User,
    flag_id: uuid.UUID,
    reason: str,
    *,
    now: datetime,
    client: str | None,
) -> FlagOut:
    """Close a flag with the reason the service was delivered after all (audited)."""
    row = (
        await session.execute(
            select(ProofFlag, Consultation)
            .join(Consultation, Consultation.id == ProofFlag.consultation_id)
            .where(ProofFlag.id == flag_id)
            .with_for_update(of=ProofFlag)
        )
    ).first()
    if row is None:
        raise NotFound(code="proof_flag_not_found")
    flag, consultation = row
    if flag.resolved_at is not None:
        raise FlagResolved()
    flag.resolved_at = now
    flag.resolved_by = actor.id
    flag.resolution = reason
    await session.flush()
    await record(
        session,
        patient_id=None,
        actor_id=actor.id,
        action="proof_flag_resolved",
        outcome="success",
        reason=f"consultation {consultation.id} flag {flag.reason}: {reason}",
        at=now,
        client=client,
    )
    [out] = await _evidence(session, [(flag, consultation)])
    return out
