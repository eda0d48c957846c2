from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from . import service
from .names import language_of
from .schemas import FacilityCreate, FacilityOut, FacilityQuery, FacilityUpdate

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
    return await service.create_facility(ctx.session, ctx.body, language_of(ctx.request, ctx.me))


@router.route(
    "PATCH",
    "/facilities/{id}",
    summary="Rename a facility (in English, Kazakh, Russian) or change its region or level",
    body=FacilityUpdate,
    response=FacilityOut,
    roles=[Role.admin],
)
async def update_facility(ctx: Ctx) -> FacilityOut:
    return await service.update_facility(
        ctx.session, ctx.path_id(), ctx.body, language_of(ctx.request, ctx.me)
    )


@router.get(
    "/facilities",
    summary="List facilities (names in the reader's language)",
    query=FacilityQuery,
    response=Page[FacilityOut],
    read_only=True,
)
async def list_facilities(ctx: Ctx) -> Page[FacilityOut]:
    items, nxt = await service.list_facilities(
        ctx.session, ctx.query, language_of(ctx.request, ctx.me)
    )
    return Page[FacilityOut](items=items, next=nxt)
