from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from . import service
from .schemas import MessageOut, MessageQuery, MessageSettings

router = Router("messages")


@router.get(
    "/me/messages",
    summary="What was sent to me, newest first",
    query=MessageQuery,
    response=Page[MessageOut],
    read_only=True,
)
async def my_messages(ctx: Ctx) -> Page[MessageOut]:
    return Page[MessageOut](items=await service.messages_of(ctx.session, ctx.me, ctx.query.limit))


@router.get(
    "/me/message-settings",
    summary="Which messages I receive",
    response=MessageSettings,
    read_only=True,
)
async def my_settings(ctx: Ctx) -> MessageSettings:
    return await service.settings_of(ctx.session, ctx.me)


@router.post(
    "/me/message-settings",
    summary="Turn reminders on or off (codes cannot be turned off)",
    body=MessageSettings,
    response=MessageSettings,
    roles=[Role.patient],
)
async def choose_settings(ctx: Ctx) -> MessageSettings:
    return await service.choose(ctx.session, ctx.me, ctx.body)
