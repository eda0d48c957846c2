"""Patients: registration by IIN and who may see a patient's record."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, exists, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..codes import Role
from ..consultations.models import Consultation
from ..consultations.participants import invited_clause
from ..db.paging import keyset_page
from ..errors import Conflict, Forbidden, NotFound, field_error
from ..facilities.models import Facility
from .iin import IINError, validate_for_person
from .models import Patient, name_key
from .schemas import PatientCreate, PatientOut, PatientQuery


async def register_patient(session: AsyncSession, actor: User, data: PatientCreate) -> Patient:
    """Register a patient, attached to the registering GP's facility (admins may choose)."""
    try:
        validate_for_person(data.iin, data.birth_date, data.sex)
    except IINError as exc:
        raise field_error(exc.field, str(exc), code=exc.code) from None
    if actor.role == Role.gp:
        if data.facility_id is not None and data.facility_id != actor.facility_id:
            raise field_error(
                "facility_id", "a GP registers patients at its own facility", code="own_facility"
            )
        facility_id = actor.facility_id
    else:
        facility_id = data.facility_id
        if facility_id is not None and await session.get(Facility, facility_id) is None:
            raise field_error("facility_id", "no such facility", code="no_such_facility")
    if await session.scalar(select(Patient.id).where(Patient.iin == data.iin)):
        raise Conflict(
            "A patient with this IIN is already registered.",
            fields={"iin": "taken"},
            code="patient_exists",
            field_codes={"iin": "iin_taken"},
        )
    patient = Patient(
        iin=data.iin,
        full_name=data.full_name,
        birth_date=data.birth_date,
        sex=data.sex,
        phone=data.phone,
        facility_id=facility_id,
        registered_by=actor.id,
    )
    session.add(patient)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "A patient with this IIN is already registered.",
            fields={"iin": "taken"},
            code="patient_exists",
            field_codes={"iin": "iin_taken"},
        ) from None
    return patient


def visible_patients(actor: User) -> Select[Any]:
    """Patients the actor may see: its facility's (GP), its consultations' (specialist)."""
    stmt = select(Patient)
    role = Role(actor.role)
    if role == Role.admin:
        return stmt
    if role == Role.gp:
        return stmt.where(
            or_(
                Patient.facility_id == actor.facility_id,
                exists().where(
                    Consultation.patient_id == Patient.id, Consultation.requester_id == actor.id
                ),
            )
        )
    if role == Role.specialist:
        return stmt.where(
            exists().where(
                Consultation.patient_id == Patient.id,
                or_(Consultation.specialist_id == actor.id, invited_clause(actor.id)),
            )
        )
    return stmt.where(Patient.id == actor.patient_id)


async def get_patient(session: AsyncSession, actor: User, patient_id: uuid.UUID) -> Patient:
    """The patient if the actor may see it; otherwise 404 (its existence is not revealed)."""
    patient = await session.scalar(visible_patients(actor).where(Patient.id == patient_id))
    if patient is None:
        raise NotFound(code="patient_not_found")
    return patient


async def search_patients(
    session: AsyncSession, actor: User, q: PatientQuery
) -> tuple[list[PatientOut], str | None]:
    """A page of the patients the actor may see, found by name or IIN; patients cannot search.

    ``q`` is part of the name (casefolded, so any case and any script) or, when it is all
    digits, the first digits of the IIN. A GP searches its own facility's patients only and
    an empty search finds nothing; specialists and administrators keep their listing.
    """
    if actor.role == Role.patient:
        raise Forbidden("Patients cannot search the register.", code="patients_cannot_search")
    needle = q.q or ""
    if actor.role == Role.gp:
        stmt = select(Patient).where(Patient.facility_id == actor.facility_id)
    else:
        stmt = visible_patients(actor)
    if q.iin is not None:
        stmt = stmt.where(Patient.iin == q.iin)
    elif needle.isdigit() and len(needle) <= 12:
        stmt = stmt.where(Patient.iin.startswith(needle, autoescape=True))
    elif needle:
        stmt = stmt.where(Patient.name_key.contains(name_key(needle), autoescape=True))
    elif actor.role == Role.gp:
        # Nothing asked, nothing shown (the cursor is still checked).
        stmt = stmt.where(false())
    order = [Patient.name_key, Patient.id] if needle else [Patient.created_at, Patient.id]
    rows, nxt = await keyset_page(session, stmt, order, q.cursor, q.limit)
    return [PatientOut.model_validate(r) for r in rows], nxt
