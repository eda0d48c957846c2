from __future__ import annotations

from sqlalchemy import select

from ..api import Ctx, Page, Router
from ..codes import Role
from ..db.paging import keyset_page
from .models import Facility
from .schemas import FacilityCreate, FacilityOut, FacilityQuery

router = Router("facilities")


@router.post(
    "/facilities",
    summary="Register a facility",
    body=FacilityCreate,
    response=FacilityOut,
    status=201,
    roles=[Role.admin],
)
async def create_facility(ctx: Ctx) -> FacilityOut:
    facility = Facility(name=ctx.body.name, region=ctx.body.region, level=ctx.body.level.value)
    ctx.session.add(facility)
    await ctx.session.flush()
    return FacilityOut.model_validate(facility)


@router.get(
    "/facilities",
    summary="List facilities",
    query=FacilityQuery,
    response=Page[FacilityOut],
    read_only=True,
)
async def list_facilities(ctx: Ctx) -> Page[FacilityOut]:
    q: FacilityQuery = ctx.query
    stmt = select(Facility)
    if q.region:
        stmt = stmt.where(Facility.region == q.region)
    if q.level:
        stmt = stmt.where(Facility.level == q.level.value)
    rows, nxt = await keyset_page(
        ctx.session, stmt, [Facility.name, Facility.id], q.cursor, q.limit
    )
    return Page[FacilityOut](items=[FacilityOut.model_validate(r) for r in rows], next=nxt)
