from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import select

from ..accounts import directory
from ..api import Ctx, Page, Router, render
from ..appkeys import NOTIFIER
from ..codes import Role
from ..consultations.models import Consultation
from . import service
from .models import BreakGlassSession, ConsentGrant, ConsentRequest
from .schemas import (
    BreakGlassIn,
    BreakGlassOut,
    BreakGlassQuery,
    ConfirmIn,
    ConsentRequestCreate,
    ConsentRequestOut,
    ConsultationBrief,
    GrantCreate,
    GrantOut,
    RequestStatus,
)

router = Router("consent")

CLINICIANS = [Role.gp, Role.specialist]


# Every grant, request and emergency session is answered with the people and places it
# names by name (accounts.directory): a patient consents to a doctor, not to an id. A page
# of them costs a few statements in all, however long it is.


async def _grants_out(ctx: Ctx, grants: Sequence[ConsentGrant]) -> list[GrantOut]:
    now = ctx.clock.now()
    users = await directory.people(ctx.session, (g.grantee_user_id for g in grants))
    places = await directory.facilities(ctx.session, (g.grantee_facility_id for g in grants))
    out = []
    for grant in grants:
        item = GrantOut.model_validate(grant)
        item.active = service.is_active(grant, now)
        if grant.grantee_user_id is not None:
            item.grantee = users.get(grant.grantee_user_id)
        if grant.grantee_facility_id is not None:
            item.grantee_facility = places.get(grant.grantee_facility_id)
        out.append(item)
    return out


async def _grant_out(ctx: Ctx, grant: ConsentGrant) -> GrantOut:
    return (await _grants_out(ctx, [grant]))[0]


async def _requests_out(
    ctx: Ctx, requests: Sequence[ConsentRequest], active: Sequence[bool | None] | None = None
) -> list[ConsentRequestOut]:
    named = await directory.people(
        ctx.session, [r.grantee_user_id for r in requests] + [r.requested_by for r in requests]
    )
    wanted = {r.consultation_id for r in requests if r.consultation_id is not None}
    consultations = {}
    if wanted:
        consultations = {
            c.id: ConsultationBrief.model_validate(c)
            for c in await ctx.session.scalars(
                select(Consultation).where(Consultation.id.in_(wanted))
            )
        }
    out = []
    for i, request in enumerate(requests):
        item = ConsentRequestOut.model_validate(request)
        item.grantee = named.get(request.grantee_user_id)
        item.requester = named.get(request.requested_by)
        if request.consultation_id is not None:
            item.consultation = consultations.get(request.consultation_id)
        if active is not None:
            item.grant_active = active[i]
        out.append(item)
    return out


async def _request_out(ctx: Ctx, request: ConsentRequest) -> ConsentRequestOut:
    return (await _requests_out(ctx, [request]))[0]


async def _break_glass_out(ctx: Ctx, sessions: Sequence[BreakGlassSession]) -> list[BreakGlassOut]:
    named = await directory.people(ctx.session, (s.actor_id for s in sessions))
    out = []
    for opened in sessions:
        item = BreakGlassOut.model_validate(opened)
        item.actor = named.get(opened.actor_id)
        out.append(item)
    return out


@router.post(
    "/patients/{id}/consents",
    summary="Grant a user or a facility access to your passport",
    body=GrantCreate,
    response=GrantOut,
    status=201,
    roles=[Role.patient],
)
async def grant_consent(ctx: Ctx) -> GrantOut:
    grant = await service.grant_consent(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )
    return await _grant_out(ctx, grant)


@router.get(
    "/patients/{id}/consents",
    summary="Your consent grants, newest first",
    response=Page[GrantOut],
    roles=[Role.patient],
)
async def list_consents(ctx: Ctx) -> Page[GrantOut]:
    grants = await service.list_grants(ctx.session, ctx.me, ctx.path_id())
    return Page[GrantOut](items=await _grants_out(ctx, grants))


@router.post(
    "/patients/{id}/consents/{cid}/revoke",
    summary="Revoke a grant (effective from the next request)",
    response=GrantOut,
    roles=[Role.patient],
)
async def revoke_consent(ctx: Ctx) -> GrantOut:
    grant = await service.revoke_grant(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.path_id("cid"),
        now=ctx.clock.now(),
        client=ctx.client,
    )
    return await _grant_out(ctx, grant)


@router.post(
    "/patients/{id}/consent-requests",
    summary="Ask the patient's consent; a one-time code goes to the patient",
    body=ConsentRequestCreate,
    response=ConsentRequestOut,
    status=201,
    roles=CLINICIANS,
)
async def request_consent(ctx: Ctx) -> ConsentRequestOut:
    request = await service.request_consent(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.body,
        ctx.request.app[NOTIFIER],
        secret_key=ctx.settings.secret_key,
        now=ctx.clock.now(),
        client=ctx.client,
    )
    return await _request_out(ctx, request)


@router.get(
    "/patients/{id}/consent-requests",
    summary="Consent requests waiting for you (and past ones)",
    response=Page[ConsentRequestOut],
    roles=[Role.patient],
)
async def list_consent_requests(ctx: Ctx) -> Page[ConsentRequestOut]:
    requests = await service.list_requests(ctx.session, ctx.me, ctx.path_id())
    return Page[ConsentRequestOut](items=await _requests_out(ctx, requests))


@router.get(
    "/consultations/{id}/consent-requests",
    summary="The consent requests made for a consultation (for its participants)",
    response=Page[ConsentRequestOut],
    roles=[*CLINICIANS, Role.patient],
)
async def list_consultation_requests(ctx: Ctx) -> Page[ConsentRequestOut]:
    rows = await service.list_for_consultation(ctx.session, ctx.me, ctx.path_id(), ctx.clock.now())
    items = await _requests_out(ctx, [r for r, _ in rows], [active for _, active in rows])
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
    request = await service.answer_request(
        ctx.session, ctx.me, ctx.path_id(), status, now=ctx.clock.now(), client=ctx.client
    )
    return await _request_out(ctx, request)


@router.post(
    "/consent-requests/{id}/send-code",
    summary="Send (again) a one-time code to the patient",
    response=ConsentRequestOut,
    roles=CLINICIANS,
)
async def send_code(ctx: Ctx) -> ConsentRequestOut:
    request = await service.send_code(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.request.app[NOTIFIER],
        secret_key=ctx.settings.secret_key,
        now=ctx.clock.now(),
    )
    return await _request_out(ctx, request)


@router.post(
    "/consent-requests/{id}/confirm",
    summary="Confirm a request: the patient, or a clinician with the one-time code",
    body=ConfirmIn,
    optional_body=True,
    response=GrantOut,
)
async def confirm(ctx: Ctx) -> web.StreamResponse:
    body: ConfirmIn = ctx.body or ConfirmIn()
    result = await service.confirm(
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
    return render(await _grant_out(ctx, result.grant))


@router.post(
    "/patients/{id}/break-glass",
    summary="Open emergency read access (audited, at most 4 hours)",
    body=BreakGlassIn,
    response=BreakGlassOut,
    status=201,
    roles=CLINICIANS,
)
async def open_break_glass(ctx: Ctx) -> BreakGlassOut:
    opened = await service.open_break_glass(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )
    return (await _break_glass_out(ctx, [opened]))[0]


@router.post(
    "/break-glass/{id}/end",
    summary="End your emergency access early",
    response=BreakGlassOut,
    roles=CLINICIANS,
)
async def end_break_glass(ctx: Ctx) -> BreakGlassOut:
    ended = await service.end_break_glass(
        ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now(), client=ctx.client
    )
    return (await _break_glass_out(ctx, [ended]))[0]


@router.get(
    "/break-glass",
    summary="Emergency access sessions to review, oldest first",
    query=BreakGlassQuery,
    response=Page[BreakGlassOut],
    roles=[Role.admin],
)
async def list_break_glass(ctx: Ctx) -> Page[BreakGlassOut]:
    q: BreakGlassQuery = ctx.query
    rows, nxt = await service.break_glass_page(
        ctx.session, cursor=q.cursor, limit=q.limit, now=ctx.clock.now(), client=ctx.client
    )
    return Page[BreakGlassOut](items=await _break_glass_out(ctx, rows), next=nxt)
