from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from ..errors import NotFound
from . import inbox
from .schemas import (
    MessageOut,
    MessageQuery,
    MessageSettings,
    MessagesRead,
    OutboxMessageOut,
    UnreadOut,
)

router = Router("messages")


@router.get(
    "/me/messages",
    summary="What was sent to me, newest first",
    query=MessageQuery,
    response=Page[MessageOut],
    read_only=True,
)
async def my_messages(ctx: Ctx) -> Page[MessageOut]:
    items = await inbox.messages_of(
        ctx.session, ctx.me, ctx.query.limit, web_dir=ctx.settings.web_dir
    )
    return Page[MessageOut](items=items)


@router.get(
    "/me/messages/unread",
    summary="How many of my delivered messages I have not opened (the bell)",
    response=UnreadOut,
    read_only=True,
)
async def my_unread(ctx: Ctx) -> UnreadOut:
    return await inbox.unread(ctx.session, ctx.me)


@router.post(
    "/me/messages/read",
    summary="Mark my messages as opened (ids of someone else's change nothing)",
    body=MessagesRead,
    response=UnreadOut,
)
async def read_messages(ctx: Ctx) -> UnreadOut:
    return await inbox.mark_read(ctx.session, ctx.me, ctx.body, ctx.clock.now())


@router.get(
    "/me/message-settings",
    summary="Which messages I receive",
    response=MessageSettings,
    read_only=True,
)
async def my_settings(ctx: Ctx) -> MessageSettings:
    return await inbox.settings_of(ctx.session, ctx.me)


@router.post(
    "/me/message-settings",
    summary="Turn reminders on or off (codes cannot be turned off)",
    body=MessageSettings,
    response=MessageSettings,
    roles=[Role.patient],
)
async def choose_settings(ctx: Ctx) -> MessageSettings:
    return await inbox.choose(ctx.session, ctx.me, ctx.body)


@router.get(
    "/dev/outbox",
    summary="Development only: every message with its text",
    query=MessageQuery,
    response=Page[OutboxMessageOut],
    roles=[Role.admin],
    read_only=True,
)
async def development_outbox(ctx: Ctx) -> Page[OutboxMessageOut]:
    if ctx.settings.env != "development":
        raise NotFound()
    items = await inbox.development_outbox(ctx.session, ctx.settings.web_dir, ctx.query.limit)
    return Page[OutboxMessageOut](items=items)
