"""Programmes (read by all clinicians, edited by administrators), enrolment by the GP,
proposals from the passport's diagnoses, and the GP's follow-up list."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit import service as audit
from ..consent.decision import ConsentDenied, authorize
from ..consent.policy import Access, Category
from ..consultations.lifecycle import Status
from ..consultations.models import Consultation
from ..errors import Conflict, NotFound
from ..measurements.models import AttentionItem, Observation
from ..passport.models import PassportEntry
from ..patients.models import Patient
from ..patients.service import get_patient
from .catalogue import covers
from .models import Enrolment, Programme
from .rules import standing
from .schemas import (
    EnrolmentOut,
    FollowUpRow,
    PatientProgrammesOut,
    ProgrammeEdit,
    ProgrammeOut,
)


async def list_programmes(session: AsyncSession) -> list[ProgrammeOut]:
    rows = await session.scalars(select(Programme).order_by(Programme.code))
    return [ProgrammeOut.model_validate(p) for p in rows]


async def get_programme(session: AsyncSession, code: str) -> Programme:
    programme = await session.get(Programme, code)
    if programme is None:
        raise NotFound("No such programme.", code="programme_not_found")
    return programme


async def edit_programme(
    session: AsyncSession, admin: User, code: str, data: ProgrammeEdit, *, now: datetime
) -> ProgrammeOut:
    programme = await get_programme(session, code)
    programme.icd10 = list(dict.fromkeys(data.icd10))
    programme.visit_interval_days = data.visit_interval_days
    programme.targets = [t.model_dump() for t in data.targets]
    programme.review_specialty = data.review_specialty
    programme.review_interval_days = data.review_interval_days
    if data.source:
        programme.source = data.source
    programme.updated_at = now
    programme.updated_by = admin.id
    await session.flush()
    await audit.record(
        session,
        patient_id=None,
        actor_id=admin.id,
        action="programme.edit",
        outcome="ok",
        reason=code,
        at=now,
        client=None,
    )
    return ProgrammeOut.model_validate(programme)


async def enrol(
    session: AsyncSession, gp: User, patient_id: uuid.UUID, code: str, *, now: datetime
) -> EnrolmentOut:
    patient = await get_patient(session, gp, patient_id)
    await get_programme(session, code)
    enrolment = await session.scalar(
        select(Enrolment).where(Enrolment.patient_id == patient.id, Enrolment.programme == code)
    )
    if enrolment is not None and enrolment.ended_at is None:
        raise Conflict("The patient is already in this programme.", code="already_enrolled")
    if enrolment is None:
        enrolment = Enrolment(patient_id=patient.id, programme=code)
        session.add(enrolment)
    enrolment.facility_id = patient.facility_id or gp.facility_id
    enrolment.enrolled_by = gp.id
    enrolment.enrolled_at = now
    enrolment.ended_at = None
    try:
        await session.flush()
    except IntegrityError:
        # Enrolled by someone else at the same moment.
        raise Conflict(
            "The patient is already in this programme.", code="already_enrolled"
        ) from None
    return EnrolmentOut.model_validate(enrolment)


async def end_enrolment(
    session: AsyncSession, gp: User, enrolment_id: uuid.UUID, *, now: datetime
) -> EnrolmentOut:
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("No such enrolment.", code="enrolment_not_found")
    await get_patient(session, gp, enrolment.patient_id)
    if enrolment.ended_at is None:
        enrolment.ended_at = now
        await session.flush()
    return EnrolmentOut.model_validate(enrolment)


async def active_programmes(session: AsyncSession, patient_id: uuid.UUID) -> list[Programme]:
    rows = await session.scalars(
        select(Programme)
        .join(Enrolment, Enrolment.programme == Programme.code)
        .where(Enrolment.patient_id == patient_id, Enrolment.ended_at.is_(None))
        .order_by(Programme.code)
    )
    return list(rows)


async def patient_programmes(
    session: AsyncSession, user: User, patient_id: uuid.UUID, *, now: datetime, client: str | None
) -> PatientProgrammesOut:
    """The patient's enrolments, and the programmes their passport's diagnoses propose (read
    under consent: without it, no proposal is made)."""
    await get_patient(session, user, patient_id)
    rows = await session.scalars(
        select(Enrolment).where(Enrolment.patient_id == patient_id).order_by(Enrolment.enrolled_at)
    )
    enrolments = [EnrolmentOut.model_validate(e) for e in rows]
    proposed: list[str] = []
    try:
        await authorize(
            session,
            user,
            patient_id,
            access=Access.read,
            needed=frozenset({Category.diagnoses.value}),
            action="passport.search",
            now=now,
            client=client,
        )
    except ConsentDenied:
        return PatientProgrammesOut(enrolments=enrolments, proposed=[])
    documents = await session.scalars(
        select(PassportEntry.document).where(
            PassportEntry.patient_id == patient_id, PassportEntry.kind == "diagnosis"
        )
    )
    codes = [json.loads(d)["body"].get("code", "") for d in documents]
    active = {e.programme for e in enrolments if e.ended_at is None}
    for programme in await session.scalars(select(Programme).order_by(Programme.code)):
        if programme.code not in active and any(covers(programme.icd10, c) for c in codes):
            proposed.append(programme.code)
    return PatientProgrammesOut(enrolments=enrolments, proposed=proposed)


async def follow_up(session: AsyncSession, gp: User, *, now: datetime) -> list[FollowUpRow]:
    """The facility's enrolled patients, overdue first (longest overdue first), then by the
    next date something falls due."""
    rows = (
        await session.execute(
            select(Enrolment, Programme, Patient.full_name)
            .join(Programme, Programme.code == Enrolment.programme)
            .join(Patient, Patient.id == Enrolment.patient_id)
            .where(Enrolment.facility_id == gp.facility_id, Enrolment.ended_at.is_(None))
        )
    ).all()
    patient_ids = list({e.patient_id for e, _, _ in rows})
    if not patient_ids:
        return []
    visits = await session.execute(
        select(Consultation.patient_id, Consultation.specialty, func.max(Consultation.ended_at))
        .where(Consultation.patient_id.in_(patient_ids), Consultation.status == Status.completed)
        .group_by(Consultation.patient_id, Consultation.specialty)
    )
    by_specialty: dict[uuid.UUID, dict[str, datetime]] = {}
    for pid, specialty, ended in visits:
        if ended is not None:
            by_specialty.setdefault(pid, {})[specialty] = ended
    measured = await session.execute(
        select(Observation.patient_id, Observation.measure, func.max(Observation.measured_at))
        .where(Observation.patient_id.in_(patient_ids))
        .group_by(Observation.patient_id, Observation.measure)
    )
    last_by: dict[uuid.UUID, dict[str, datetime]] = {}
    for pid, measure, at in measured:
        last_by.setdefault(pid, {})[measure] = at
    attention = dict(
        (
            await session.execute(
                select(AttentionItem.patient_id, func.count())
                .where(
                    AttentionItem.patient_id.in_(patient_ids),
                    AttentionItem.facility_id == gp.facility_id,
                    AttentionItem.resolved_at.is_(None),
                )
                .group_by(AttentionItem.patient_id)
            )
        ).all()
    )
    out = []
    for enrolment, programme, name in rows:
        seen = by_specialty.get(enrolment.patient_id, {})
        measures = last_by.get(enrolment.patient_id, {})
        s = standing(
            enrolled_at=enrolment.enrolled_at,
            visit_interval_days=programme.visit_interval_days,
            review_interval_days=programme.review_interval_days,
            review_specialty=programme.review_specialty,
            targets=programme.targets,
            last_visit=max(seen.values(), default=None),
            last_review=seen.get(programme.review_specialty or ""),
            last_by_measure=measures,
            now=now,
        )
        expected = {t["measure"] for t in programme.targets}
        out.append(
            FollowUpRow(
                enrolment_id=enrolment.id,
                patient_id=enrolment.patient_id,
                patient_name=name,
                programme=programme.code,
                enrolled_at=enrolment.enrolled_at,
                last_visit=max(seen.values(), default=None),
                visit_due=s.visit_due,
                last_measurement=max(
                    (at for m, at in measures.items() if m in expected), default=None
                ),
                measurement_due=s.measurement_due,
                missing_measures=s.missing_measures,
                last_review=seen.get(programme.review_specialty or ""),
                review_due=s.review_due,
                review_specialty=programme.review_specialty,
                overdue=s.overdue,
                overdue_since=s.overdue_since,
                attention=int(attention.get(enrolment.patient_id, 0)),
            )
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    out.sort(
        key=lambda r: (
            not r.overdue,
            r.overdue_since or far,
            min(d for d in (r.visit_due, r.measurement_due, r.review_due) if d is not None),
            r.patient_name,
        )
    )
    return out
