"""Facilities: clinics and hospitals registered by administrators."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.paging import keyset_page
from .models import Facility
from .schemas import FacilityCreate, FacilityOut, FacilityQuery


async def create_facility(session: AsyncSession, data: FacilityCreate) -> FacilityOut:
    """Register a clinic or hospital in a region, at a care level."""
    facility = Facility(name=data.name, region=data.region, level=data.level.value)
    session.add(facility)
    await session.flush()
    return FacilityOut.model_validate(facility)


async def list_facilities(
    session: AsyncSession, q: FacilityQuery
) -> tuple[list[FacilityOut], str | None]:
    """A page of facilities by name, filtered by region and care level."""
    stmt = select(Facility)
    if q.region:
        stmt = stmt.where(Facility.region == q.region)
    if q.level:
        stmt = stmt.where(Facility.level == q.level.value)
    rows, nxt = await keyset_page(session, stmt, [Facility.name, Facility.id], q.cursor, q.limit)
    return [FacilityOut.model_validate(r) for r in rows], nxt
