"""Facilities: clinics and hospitals registered by administrators."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..codes import CareLevel
from ..db.paging import keyset_page
from ..errors import NotFound
from .models import Facility
from .names import localized, names_of
from .schemas import FacilityCreate, FacilityOut, FacilityQuery, FacilityUpdate


def facility_out(facility: Facility, language: str) -> FacilityOut:
    """A facility as the API answers it, named in ``language``."""
    return FacilityOut(
        id=facility.id,
        name=localized(facility.name, facility.name_kk, facility.name_ru, language),
        names=names_of(facility.name, facility.name_kk, facility.name_ru),
        name_en=facility.name,
        name_kk=facility.name_kk,
        name_ru=facility.name_ru,
        region=facility.region,
        level=CareLevel(facility.level),
        created_at=facility.created_at,
    )


async def create_facility(
    session: AsyncSession, data: FacilityCreate, language: str = "en"
) -> FacilityOut:
    """Register a clinic or hospital in a region, at a care level."""
    facility = Facility(
        name=data.name,
        name_kk=data.name_kk,
        name_ru=data.name_ru,
        region=data.region,
        level=data.level.value,
    )
    session.add(facility)
    await session.flush()
    return facility_out(facility, language)


async def update_facility(
    session: AsyncSession, facility_id: uuid.UUID, data: FacilityUpdate, language: str = "en"
) -> FacilityOut:
    """Rename a facility (in any of the three languages), or move it to another region or
    care level; only the fields sent change."""
    facility = await session.get(Facility, facility_id)
    if facility is None:
        raise NotFound("No such facility.", code="facility_not_found")
    sent = data.model_fields_set
    if "name" in sent and data.name is not None:
        facility.name = data.name
    if "name_kk" in sent:
        facility.name_kk = data.name_kk
    if "name_ru" in sent:
        facility.name_ru = data.name_ru
    if "region" in sent and data.region is not None:
        facility.region = data.region
    if "level" in sent and data.level is not None:
        facility.level = data.level.value
    await session.flush()
    return facility_out(facility, language)


async def list_facilities(
    session: AsyncSession, q: FacilityQuery, language: str = "en"
) -> tuple[list[FacilityOut], str | None]:
    """A page of facilities by name, filtered by region and care level."""
    stmt = select(Facility)
    if q.region:
        stmt = stmt.where(Facility.region == q.region)
    if q.level:
        stmt = stmt.where(Facility.level == q.level.value)
    rows, nxt = await keyset_page(session, stmt, [Facility.name, Facility.id], q.cursor, q.limit)
    return [facility_out(r, language) for r in rows], nxt
