"""Naming people to others: who wrote an entry, who looked at a passport, who asks for access.

Ids alone mean nothing to a patient deciding whether to let a doctor in, or reading who
looked at their records. :func:`people` names many users at once (one query for the users
and their facilities, one for the specialists' specialties), so a page of a hundred entries
costs two statements, not a hundred.

Clinicians and administrators are named to anyone signed in: their names are what a patient
needs to consent knowingly. A patient account is named only where ``patient_id`` says whose
records are shown and it is that patient's own account; any other patient account keeps its
name withheld, so no page reveals who else is a patient. A system account (the author of
the entries a laboratory or a hospital sent) is named like staff.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Executable, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..codes import Role
from ..facilities.models import Facility
from ..facilities.names import current_language, localized
from .models import SpecialistSpecialty, User
from .schemas import FacilityRef, PersonOut
from .systems import SystemAccount

STAFF = frozenset({Role.gp, Role.specialist, Role.admin})
CLINICIANS = (Role.gp.value, Role.specialist.value)
# The roles a system account is named with: its kind.
SYSTEMS = frozenset({"laboratory", "hospital"})


async def people(
    session: AsyncSession,
    ids: Iterable[uuid.UUID | None],
    *,
    patient_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, PersonOut]:
    """Each known user among ``ids`` (None and unknown ids are left out), as named to others."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = await _named(session, _PEOPLE.where(User.id.in_(wanted)), patient_id)
    if wanted - found.keys():
        found |= await _systems(session, wanted - found.keys())
    return found


async def _systems(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, PersonOut]:
    """System accounts among ``ids`` (the authors of imported entries), by their names."""
    rows = await session.execute(
        select(
            SystemAccount.id,
            SystemAccount.name,
            SystemAccount.kind,
            Facility.name.label("facility"),
            Facility.name_kk,
            Facility.name_ru,
        )
        .join(Facility, Facility.id == SystemAccount.facility_id)
        .where(SystemAccount.id.in_(ids))
    )
    language = current_language()
    return {
        row.id: PersonOut(
            id=row.id,
            name=row.name,
            role=row.kind,
            facility=localized(row.facility, row.name_kk, row.name_ru, language),
        )
        for row in rows
    }


async def find_clinicians(session: AsyncSession, text: str, limit: int = 20) -> list[PersonOut]:
    """Active GPs and specialists whose name holds ``text`` (any case), by name: how a patient
    finds the doctor to grant access to. ``text`` is matched literally (``%`` and ``_`` too)."""
    needle = text.strip().casefold()
    needle = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    sqlite = session.get_bind().dialect.name == "sqlite"
    # Any script, any case: lower() on PostgreSQL; casefold() on SQLite (db/engine.py).
    folded = (func.casefold if sqlite else func.lower)(User.full_name)
    query = (
        _PEOPLE.where(
            User.role.in_(CLINICIANS),
            User.is_active.is_(True),
            folded.like(f"%{needle}%", escape="\\"),
        )
        .order_by(User.full_name, User.id)
        .limit(limit)
    )
    found = await _named(session, query, None)
    return list(found.values())


_PEOPLE = select(
    User.id,
    User.full_name,
    User.role,
    User.patient_id,
    Facility.name,
    Facility.name_kk,
    Facility.name_ru,
).outerjoin(Facility, Facility.id == User.facility_id)


async def _named(
    session: AsyncSession, query: Executable, patient_id: uuid.UUID | None
) -> dict[uuid.UUID, PersonOut]:
    rows = (await session.execute(query)).all()
    specialists = [row.id for row in rows if row.role == Role.specialist]
    specialties: dict[uuid.UUID, list[str]] = {}
    if specialists:
        for user_id, specialty in await session.execute(
            select(SpecialistSpecialty.user_id, SpecialistSpecialty.specialty)
            .where(SpecialistSpecialty.user_id.in_(specialists))
            .order_by(SpecialistSpecialty.specialty)
        ):
            specialties.setdefault(user_id, []).append(specialty)
    found: dict[uuid.UUID, PersonOut] = {}
    language = current_language()
    for row in rows:
        named = Role(row.role) in STAFF or (patient_id is not None and row.patient_id == patient_id)
        found[row.id] = PersonOut(
            id=row.id,
            name=row.full_name if named else None,
            role=Role(row.role),
            facility=(
                localized(row.name, row.name_kk, row.name_ru, language)
                if Role(row.role) in STAFF and row.name is not None
                else None
            ),
            specialties=specialties.get(row.id, []),
        )
    return found


async def facilities(
    session: AsyncSession, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, FacilityRef]:
    """Each known facility among ``ids``, by name and region (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            Facility.id, Facility.name, Facility.name_kk, Facility.name_ru, Facility.region
        ).where(Facility.id.in_(wanted))
    )
    language = current_language()
    return {
        row.id: FacilityRef(
            id=row.id,
            name=localized(row.name, row.name_kk, row.name_ru, language),
            region=row.region,
        )
        for row in rows
    }
