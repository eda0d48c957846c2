from __future__ import annotations

from aiohttp import web

from ..api import Ctx, Page, Router
from ..appkeys import PASSWORDS, REQUEST_TOKEN
from ..codes import Role
from ..errors import ValidationFailed
from . import service
from .auth import CSRF_COOKIE, SESSION_COOKIE, set_session_cookies
from .schemas import (
    LoginIn,
    LoginOut,
    LogoutOut,
    MeUpdate,
    PeopleQuery,
    PersonOut,
    UserCreate,
    UserOut,
    UserStatusIn,
)

router = Router("accounts")


@router.post("/auth/login", summary="Log in", body=LoginIn, response=LoginOut, public=True)
async def login(ctx: Ctx) -> web.Response:
    out = await service.login(
        ctx.session,
        ctx.request.app[PASSWORDS],
        ctx.settings,
        username=ctx.body.username,
        password=ctx.body.password,
        now=ctx.clock.now(),
        client=ctx.client,
    )
    response = web.json_response(out.model_dump(mode="json"))
    set_session_cookies(response, out.token, ctx.settings, ctx.settings.token_ttl_hours * 3600)
    return response


@router.post("/auth/logout", summary="Log out (revokes the token)", response=LogoutOut)
async def logout(ctx: Ctx) -> web.Response:
    await service.logout(ctx.session, ctx.me, ctx.request[REQUEST_TOKEN], ctx.clock.now())
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    response.del_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", summary="The current user", response=UserOut, read_only=True)
async def me(ctx: Ctx) -> UserOut:
    return await service.user_out(ctx.session, ctx.me)


@router.patch(
    "/me",
    summary="Change the current user's preferences (the pages' language)",
    body=MeUpdate,
    response=UserOut,
)
async def update_me(ctx: Ctx) -> UserOut:
    return await service.update_me(ctx.session, ctx.me, ctx.body)


@router.post(
    "/users",
    summary="Create a user",
    body=UserCreate,
    response=UserOut,
    status=201,
    roles=[Role.admin],
)
async def create_user(ctx: Ctx) -> UserOut:
    return await service.add_user(ctx.session, ctx.request.app[PASSWORDS], ctx.body)


@router.post(
    "/users/{id}/status",
    summary="Enable or disable a user",
    body=UserStatusIn,
    response=UserOut,
    roles=[Role.admin],
)
async def set_status(ctx: Ctx) -> UserOut:
    return await service.set_active(ctx.session, ctx.path_id(), ctx.body.is_active)


@router.get(
    "/people",
    summary="Name staff by id (``ids``), or find GPs and specialists by name (``q``)",
    query=PeopleQuery,
    response=Page[PersonOut],
    read_only=True,
)
async def people(ctx: Ctx) -> Page[PersonOut]:
    q: PeopleQuery = ctx.query
    if (q.ids is None) == (q.q is None):
        message = "give either ids or q"
        raise ValidationFailed(
            f"ids: {message}",
            fields={"ids": message, "q": message},
            field_codes={"ids": "ids_or_q", "q": "ids_or_q"},
            code="invalid",
        )
    return Page[PersonOut](items=await service.find_people(ctx.session, ctx.me, q))


__all__ = ["Page", "router"]
