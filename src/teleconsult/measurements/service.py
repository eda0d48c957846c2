"""Measurements entered by the GP or the patient, stored as passport observations (chained,
under consent, audited); their trend with the programmes' targets; the attention list.

Consent: a clinician writes and reads measurements as lab results (``lab_results``
category), as for any other entry; the patient reads their own and writes their own
measurements (home readings), which is the one write a patient makes in their passport.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..audit import service as audit
from ..codes import Role
from ..consent.decision import authorize
from ..consent.policy import Access, Category
from ..errors import NotFound, field_error
from ..notify import service as notify
from ..passport.schemas import Kind
from ..passport.service import append_outside_consultation
from ..patients.models import Patient
from ..patients.service import get_patient
from ..programmes import rules
from ..programmes.catalogue import MEASURES, out_of_target
from ..programmes.models import Enrolment, Programme
from ..programmes.service import active_programmes
from .models import AttentionItem, Observation
from .schemas import AttentionOut, MeasurementIn, MeasurementOut, TrendOut

NEEDED = frozenset({Category.lab_results.value})
FUTURE_SLACK = timedelta(minutes=10)


async def _patient_for(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    access: Access,
    *,
    now: datetime,
    client: str | None,
) -> Patient:
    """The patient, once the caller may read or write their measurements (audited)."""
    if user.role == Role.patient:
        if user.patient_id != patient_id:
            raise NotFound(code="patient_not_found")
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(code="patient_not_found")
        if access == Access.write:
            await audit.record(
                session,
                patient_id=patient_id,
                actor_id=user.id,
                action="passport.write",
                outcome="permit",
                reason="the patient themself",
                at=now,
                client=client,
            )
        return patient
    patient = await get_patient(session, user, patient_id)
    await authorize(
        session,
        user,
        patient_id,
        access=access,
        needed=NEEDED,
        action="passport.write" if access == Access.write else "passport.read",
        now=now,
        client=client,
    )
    return patient


def _checked(data: MeasurementIn, now: datetime) -> tuple[float, float | None, datetime]:
    measure = MEASURES[data.measure]
    if not measure.low <= data.value <= measure.high:
        raise field_error("value", "not a plausible value", "measurement_implausible")
    value2 = data.value2
    if measure.parts is not None:
        if value2 is None:
            raise field_error("value2", "blood pressure needs both values", "measurement_diastolic")
        if not measure.low <= value2 <= data.value:
            raise field_error("value2", "not a plausible value", "measurement_implausible")
    else:
        value2 = None
    at = data.measured_at or now
    if at > now + FUTURE_SLACK:
        raise field_error("measured_at", "in the future", "measurement_future")
    return data.value, value2, at


def _body(
    measure_code: str,
    value: float,
    value2: float | None,
    at: datetime,
    by: uuid.UUID | None,
    source: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    measure = MEASURES[measure_code]
    components = None
    if measure.parts is not None:
        components = [
            {"loinc": measure.parts[0], "value": value, "unit": measure.unit},
            {"loinc": measure.parts[1], "value": value2, "unit": measure.unit},
        ]
    return {
        "measure": measure_code,
        "loinc": measure.loinc,
        "unit": measure.unit,
        "value": value,
        "value2": value2,
        "components": components,
        "measured_at": at.isoformat(),
        "measured_by": str(by) if by is not None else None,
        "source": source,
        **(extra or {}),
    }


def _said(body: dict[str, Any]) -> str:
    """A reading as a message says it: "150/95 mmHg", "6.8 %"."""
    unit = body["unit"].replace("[", "").replace("]", "")
    value = f"{body['value']:g}"
    if body["value2"] is not None:
        value += f"/{body['value2']:g}"
    return f"{value} {unit}"


async def store_observation(
    session: AsyncSession,
    patient: Patient,
    author_id: uuid.UUID,
    body: dict[str, Any],
    *,
    now: datetime,
    client: str | None,
) -> tuple[dict[str, Any], bool]:
    """Chain the observation, index it, and when it misses a target of a programme the
    patient is in: put them on the attention list and tell the GPs who enrolled them (in
    this transaction). Returns the entry and whether it missed."""
    [entry] = await append_outside_consultation(
        session, patient.id, author_id, Kind.observation, [body], now=now, client=client
    )
    at = datetime.fromisoformat(body["measured_at"])
    # The readings of the measure up to this one, oldest first: whether it ends a run.
    earlier = (
        await session.execute(
            select(Observation.value, Observation.value2)
            .where(
                Observation.patient_id == patient.id,
                Observation.measure == body["measure"],
                Observation.measured_at <= at,
            )
            .order_by(Observation.measured_at, Observation.entry_id)
        )
    ).all()
    readings = [(v, v2) for v, v2 in earlier] + [(body["value"], body["value2"])]
    session.add(
        Observation(
            entry_id=uuid.UUID(entry["id"]),
            patient_id=patient.id,
            measure=body["measure"],
            loinc=body["loinc"],
            value=body["value"],
            value2=body["value2"],
            unit=body["unit"],
            measured_at=at,
            measured_by=uuid.UUID(body["measured_by"]) if body["measured_by"] else None,
            source=body["source"],
        )
    )
    gps: dict[uuid.UUID | None, set[uuid.UUID]] = {}
    told: rules.Miss | None = None
    missed = False
    for programme in await active_programmes(session, patient.id):
        for target in programme.targets:
            if target["measure"] != body["measure"]:
                continue
            miss = rules.missed(readings, target)
            if miss is None:
                continue
            missed = True
            enrolment = await session.scalar(
                select(Enrolment).where(
                    Enrolment.patient_id == patient.id,
                    Enrolment.programme == programme.code,
                )
            )
            assert enrolment is not None
            session.add(
                AttentionItem(
                    patient_id=patient.id,
                    facility_id=enrolment.facility_id,
                    entry_id=uuid.UUID(entry["id"]),
                    measure=body["measure"],
                    programme=programme.code,
                    created_at=now,
                )
            )
            gps.setdefault(enrolment.facility_id, set()).add(enrolment.enrolled_by)
            if told is None or miss.count > told.count:
                told = miss
            break
    for facility_id, gp_ids in gps.items():
        assert told is not None
        await notify.reading_off_target(
            session,
            gp_ids=gp_ids,
            facility_id=facility_id,
            patient_name=patient.full_name,
            measure=body["measure"],
            value=_said(body),
            reason=told.reason,
            count=told.count,
            now=now,
        )
    await session.flush()
    return entry, missed


async def record_measurement(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: MeasurementIn,
    *,
    now: datetime,
    client: str | None,
) -> MeasurementOut:
    patient = await _patient_for(session, user, patient_id, Access.write, now=now, client=client)
    value, value2, at = _checked(data, now)
    source = "patient" if user.role == Role.patient else "clinician"
    body = _body(data.measure, value, value2, at, user.id, source)
    entry, missed = await store_observation(session, patient, user.id, body, now=now, client=client)
    return MeasurementOut(
        entry_id=uuid.UUID(entry["id"]),
        measure=data.measure,
        loinc=body["loinc"],
        unit=body["unit"],
        value=value,
        value2=value2,
        measured_at=at,
        measured_by=user.id,
        source=source,
        out_of_target=missed,
    )


async def trend(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    measure: str,
    *,
    now: datetime,
    client: str | None,
) -> TrendOut:
    await _patient_for(session, user, patient_id, Access.read, now=now, client=client)
    rows = await session.scalars(
        select(Observation)
        .where(Observation.patient_id == patient_id, Observation.measure == measure)
        .order_by(Observation.measured_at)
    )
    targets = [
        t
        for programme in await active_programmes(session, patient_id)
        for t in programme.targets
        if t["measure"] == measure
    ]
    points = [
        MeasurementOut(
            entry_id=o.entry_id,
            measure=o.measure,
            loinc=o.loinc,
            unit=o.unit,
            value=o.value,
            value2=o.value2,
            measured_at=o.measured_at,
            measured_by=o.measured_by,
            source=o.source,
            out_of_target=any(out_of_target(t, o.value, o.value2) for t in targets),
        )
        for o in rows
    ]
    info = MEASURES[measure]
    return TrendOut(
        measure=measure, loinc=info.loinc, unit=info.unit, points=points, targets=targets
    )


async def attention_list(session: AsyncSession, gp: User) -> list[AttentionOut]:
    """The facility's open out-of-target readings, newest first, each with why it is there
    (``programmes/rules.py: missed``: one reading, or a run of them)."""
    rows = (
        await session.execute(
            select(AttentionItem, Observation, Patient.full_name)
            .join(Observation, Observation.entry_id == AttentionItem.entry_id)
            .join(Patient, Patient.id == AttentionItem.patient_id)
            .where(AttentionItem.facility_id == gp.facility_id, AttentionItem.resolved_at.is_(None))
            .order_by(AttentionItem.created_at.desc(), Observation.measured_at.desc())
        )
    ).all()
    if not rows:
        return []
    patients = {item.patient_id for item, _, _ in rows}
    measures = {item.measure for item, _, _ in rows}
    history: dict[tuple[uuid.UUID, str], list[Observation]] = {}
    for o in await session.scalars(
        select(Observation)
        .where(Observation.patient_id.in_(patients), Observation.measure.in_(measures))
        .order_by(Observation.measured_at, Observation.entry_id)
    ):
        history.setdefault((o.patient_id, o.measure), []).append(o)
    targets = {
        p.code: p.targets
        for p in await session.scalars(
            select(Programme).where(Programme.code.in_({item.programme for item, _, _ in rows}))
        )
    }
    out = []
    for item, o, name in rows:
        readings = history.get((item.patient_id, item.measure), [])
        upto = [(r.value, r.value2) for r in readings if r.measured_at <= o.measured_at]
        miss = next(
            (
                m
                for t in targets.get(item.programme, [])
                if t["measure"] == item.measure and (m := rules.missed(upto, t)) is not None
            ),
            None,
        )
        out.append(
            AttentionOut(
                id=item.id,
                patient_id=item.patient_id,
                patient_name=name,
                measure=item.measure,
                programme=item.programme,
                value=o.value,
                value2=o.value2,
                unit=o.unit,
                measured_at=o.measured_at,
                created_at=item.created_at,
                reason=miss.reason if miss is not None else "single",
                run=miss.count if miss is not None else 1,
            )
        )
    return out


async def resolve(session: AsyncSession, gp: User, item_id: uuid.UUID, *, now: datetime) -> None:
    """The GP has seen the patient's readings: their open items are closed together."""
    item = await session.get(AttentionItem, item_id)
    if item is None or item.facility_id != gp.facility_id:
        raise NotFound(code="attention_not_found")
    rows = await session.scalars(
        select(AttentionItem).where(
            AttentionItem.patient_id == item.patient_id,
            AttentionItem.facility_id == gp.facility_id,
            AttentionItem.resolved_at.is_(None),
        )
    )
    for open_item in rows:
        open_item.resolved_at = now
        open_item.resolved_by = gp.id
    await session.flush()
