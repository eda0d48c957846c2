from __future__ import annotations

from aiohttp import web

from ..api import Ctx, Page, Router, render
from ..appkeys import NOTIFIER
from ..codes import Role
from . import breakglass, confirming, grants, requests
from .schemas import (
    BreakGlassIn,
    BreakGlassOut,
    BreakGlassQuery,
    ConfirmIn,
    ConsentRequestCreate,
    ConsentRequestOut,
    GrantCreate,
    GrantOut,
    RequestStatus,
)

router = Router("consent")

CLINICIANS = [Role.gp, Role.specialist]


@router.post(
    "/patients/{id}/consents",
    summary="Grant a user or a facility access to your passport",
    body=GrantCreate,
    response=GrantOut,
    status=201,
    roles=[Role.patient],
)
async def grant_consent(ctx: Ctx) -> GrantOut:
    return await grants.grant_consent(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.get(
    "/patients/{id}/consents",
    summary="Your consent grants, newest first",
    response=Page[GrantOut],
    roles=[Role.patient],
)
async def list_consents(ctx: Ctx) -> Page[GrantOut]:
    items = await grants.list_grants(ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now())
    return Page[GrantOut](items=items)


@router.post(
    "/patients/{id}/consents/{cid}/revoke",
    summary="Revoke a grant (effective from the next request)",
    response=GrantOut,
    roles=[Role.patient],
)
async def revoke_consent(ctx: Ctx) -> GrantOut:
    return await grants.revoke_grant(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.path_id("cid"),
        now=ctx.clock.now(),
        client=ctx.client,
    )


@router.post(
    "/patients/{id}/consent-requests",
    summary="Ask the patient's consent; a one-time code goes to the patient",
    body=ConsentRequestCreate,
    response=ConsentRequestOut,
    status=201,
    roles=CLINICIANS,
)
async def request_consent(ctx: Ctx) -> ConsentRequestOut:
    return await requests.request_consent(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.body,
        ctx.request.app[NOTIFIER],
        secret_key=ctx.settings.secret_key,
        now=ctx.clock.now(),
        client=ctx.client,
    )


@router.get(
    "/patients/{id}/consent-requests",
    summary="Consent requests waiting for you (and past ones)",
    response=Page[ConsentRequestOut],
    roles=[Role.patient],
)
async def list_consent_requests(ctx: Ctx) -> Page[ConsentRequestOut]:
    items = await requests.list_requests(ctx.session, ctx.me, ctx.path_id())
    return Page[ConsentRequestOut](items=items)


@router.get(
    "/consultations/{id}/consent-requests",
    summary="The consent requests made for a consultation (for its participants)",
    response=Page[ConsentRequestOut],
    roles=[*CLINICIANS, Role.patient],
)
async def list_consultation_requests(ctx: Ctx) -> Page[ConsentRequestOut]:
    items = await requests.list_for_consultation(
        ctx.session, ctx.me, ctx.path_id(), ctx.clock.now()
    )
    return Page[ConsentRequestOut](items=items)


@router.post(
    "/consent-requests/{id}/withdraw",
    summary="Withdraw a pending request you made or that names you",
    response=ConsentRequestOut,
    roles=CLINICIANS,
)
async def withdraw_request(ctx: Ctx) -> ConsentRequestOut:
    return await _answer(ctx, RequestStatus.withdrawn)


@router.post(
    "/consent-requests/{id}/decline",
    summary="Decline a consent request (the patient)",
    response=ConsentRequestOut,
    roles=[Role.patient],
)
async def decline_request(ctx: Ctx) -> ConsentRequestOut:
    return await _answer(ctx, RequestStatus.declined)


async def _answer(ctx: Ctx, status: RequestStatus) -> ConsentRequestOut:
    return await requests.answer_request(
        ctx.session, ctx.me, ctx.path_id(), status, now=ctx.clock.now(), client=ctx.client
    )


@router.post(
    "/consent-requests/{id}/send-code",
    summary="Send (again) a one-time code to the patient",
    response=ConsentRequestOut,
    roles=CLINICIANS,
)
async def send_code(ctx: Ctx) -> ConsentRequestOut:
    return await confirming.send_code(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.request.app[NOTIFIER],
        secret_key=ctx.settings.secret_key,
        now=ctx.clock.now(),
    )


@router.post(
    "/consent-requests/{id}/confirm",
    summary="Confirm a request: the patient, or a clinician with the one-time code",
    body=ConfirmIn,
    optional_body=True,
    response=GrantOut,
)
async def confirm(ctx: Ctx) -> web.StreamResponse:
    body: ConfirmIn = ctx.body or ConfirmIn()
    result = await confirming.confirm(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        body.code,
        secret_key=ctx.settings.secret_key,
        now=ctx.clock.now(),
        client=ctx.client,
    )
    if result.refused is not None:
        # Rendered, not raised: the spent attempt is committed with this request.
        return render(result.refused.to_json(), result.refused.status)
    assert result.grant is not None
    return render(result.grant)


@router.post(
    "/patients/{id}/break-glass",
    summary="Open emergency read access (audited, at most 4 hours)",
    body=BreakGlassIn,
    response=BreakGlassOut,
    status=201,
    roles=CLINICIANS,
)
async def open_break_glass(ctx: Ctx) -> BreakGlassOut:
    return await breakglass.open_break_glass(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.post(
    "/break-glass/{id}/end",
    summary="End your emergency access early",
    response=BreakGlassOut,
    roles=CLINICIANS,
)
async def end_break_glass(ctx: Ctx) -> BreakGlassOut:
    return await breakglass.end_break_glass(
        ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now(), client=ctx.client
    )


@router.get(
    "/break-glass",
    summary="Emergency access sessions to review, oldest first",
    query=BreakGlassQuery,
    response=Page[BreakGlassOut],
    roles=[Role.admin],
)
async def list_break_glass(ctx: Ctx) -> Page[BreakGlassOut]:
    q: BreakGlassQuery = ctx.query
    items, nxt = await breakglass.break_glass_page(
        ctx.session, cursor=q.cursor, limit=q.limit, now=ctx.clock.now(), client=ctx.client
    )
    return Page[BreakGlassOut](items=items, next=nxt)
