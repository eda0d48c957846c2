from __future__ import annotations

import asyncio

from aiohttp import web

from ..api import Ctx, Router
from ..codes import Role
from ..stats.cells import reporting_day
from . import index, quality, service
from .schemas import FeedbackIn, FeedbackOut, QualityOut, QualityQuery, SuggestIn, SuggestionsOut

router = Router("coding")

# Seconds after the app starts: the server is listening by then.
WARM_AFTER = 1.0


@router.post(
    "/consultations/{id}/coding-suggestions",
    summary="ICD-10 codes suggested from a note's text (the consultation's specialist)",
    body=SuggestIn,
    response=SuggestionsOut,
    roles=[Role.specialist],
    read_only=True,
)
async def suggest(ctx: Ctx) -> SuggestionsOut:
    body: SuggestIn = ctx.body
    return await service.suggest_for_consultation(
        ctx.session, ctx.me, ctx.path_id(), body.text, body.language
    )


@router.post(
    "/consultations/{id}/coding-feedback",
    summary="Keep with a note the codes suggested and the ones chosen (the note's author)",
    body=FeedbackIn,
    response=FeedbackOut,
    roles=[Role.gp, Role.specialist],
)
async def feedback(ctx: Ctx) -> FeedbackOut:
    body: FeedbackIn = ctx.body
    return await service.feedback_for_note(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        body.entry_id,
        body.suggested,
        body.chosen,
        now=ctx.clock.now(),
    )


@router.get(
    "/coding/quality",
    read_only=True,
    summary="How often the suggested codes were chosen: top 1, 3 and 5, overall and by month",
    query=QualityQuery,
    response=QualityOut,
    roles=[Role.admin],
)
async def coding_quality(ctx: Ctx) -> QualityOut:
    return await quality.quality(ctx.session, ctx.query, reporting_day(ctx.clock.now()))


async def warm_index(_: web.Application) -> None:
    """On the app's start: a moment after it listens, the index is built in a thread (a second
    or so), so that no request waits for it while holding a transaction."""
    asyncio.get_running_loop().call_later(WARM_AFTER, index.warm)
