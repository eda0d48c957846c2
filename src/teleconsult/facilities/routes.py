from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from . import service
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
    return await service.create_facility(ctx.session, ctx.body)


@router.get(
    "/facilities",
    summary="List facilities",
    query=FacilityQuery,
    response=Page[FacilityOut],
    read_only=True,
)
async def list_facilities(ctx: Ctx) -> Page[FacilityOut]:
    items, nxt = await service.list_facilities(ctx.session, ctx.query)
    return Page[FacilityOut](items=items, next=nxt)
