from __future__ import annotations

from aiohttp import web

from ..api import Ctx, Page, Router, render
from ..codes import Role
from ..db.paging import keyset_page
from ..errors import field_error
from . import service
from .lifecycle import Action
from .models import Consultation
from .schemas import ActionIn, ConsultationCreate, ConsultationOut, ConsultationQuery

router = Router("consultations")

IDEMPOTENCY_HEADER = "Idempotency-Key"


@router.post(
    "/consultations",
    summary="Book a video consultation or send an async case",
    body=ConsultationCreate,
    response=ConsultationOut,
    status=201,
    roles=[Role.gp, Role.admin],
)
async def book(ctx: Ctx) -> web.StreamResponse:
    key = ctx.request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (1 <= len(key) <= 200):
        raise field_error(IDEMPOTENCY_HEADER, "must be 1-200 characters")
    fingerprint = service.request_fingerprint(ctx.body.model_dump(mode="json"))
    if key is not None:
        previous = await service.replay(ctx.session, ctx.me.id, key, fingerprint)
        if previous is not None:
            return render(previous.response, previous.status)
    consultation = await service.book_consultation(
        ctx.session, ctx.me, ctx.body, now=ctx.clock.now()
    )
    out = ConsultationOut.model_validate(consultation).model_dump(mode="json")
    if key is not None:
        await service.remember(ctx.session, ctx.me.id, key, fingerprint, 201, out, ctx.clock.now())
    service.publish_change(ctx.session, ctx.bus, consultation, "booked")
    return render(out, 201)


@router.get(
    "/consultations",
    summary="Consultations you may see; emergencies first",
    read_only=True,
    query=ConsultationQuery,
    response=Page[ConsultationOut],
)
async def list_consultations(ctx: Ctx) -> Page[ConsultationOut]:
    q: ConsultationQuery = ctx.query
    stmt = service.visible_consultations(ctx.me)
    if q.status is not None:
        stmt = stmt.where(Consultation.status == q.status.value)
    if q.mode is not None:
        stmt = stmt.where(Consultation.mode == q.mode.value)
    if q.specialty is not None:
        stmt = stmt.where(Consultation.specialty == q.specialty)
    if q.from_ is not None:
        stmt = stmt.where(Consultation.sort_at >= q.from_)
    if q.to is not None:
        stmt = stmt.where(Consultation.sort_at < q.to)
    order = [Consultation.urgency_rank, Consultation.sort_at, Consultation.id]
    rows, nxt = await keyset_page(ctx.session, stmt, order, q.cursor, q.limit)
    return Page[ConsultationOut](items=[ConsultationOut.model_validate(r) for r in rows], next=nxt)


@router.get(
    "/consultations/{id}", summary="One consultation", response=ConsultationOut, read_only=True
)
async def get_consultation(ctx: Ctx) -> ConsultationOut:
    consultation = await service.get_consultation(ctx.session, ctx.me, ctx.path_id())
    return ConsultationOut.model_validate(consultation)


def _action_endpoint(action: Action, summary: str, roles: list[Role]) -> None:
    async def act(ctx: Ctx) -> ConsultationOut:
        body: ActionIn = ctx.body or ActionIn()
        consultation = await service.transition(
            ctx.session,
            ctx.me,
            ctx.path_id(),
            action,
            now=ctx.clock.now(),
            conclusion=body.conclusion,
        )
        service.publish_change(ctx.session, ctx.bus, consultation, action.value)
        return ConsultationOut.model_validate(consultation)

    act.__name__ = f"consultation_{action.name}"
    router.post(
        f"/consultations/{{id}}/{action.value}",
        summary=summary,
        body=ActionIn,
        optional_body=True,
        response=ConsultationOut,
        roles=roles,
    )(act)


_action_endpoint(Action.claim, "Claim an async case from the queue", [Role.specialist])
_action_endpoint(Action.start, "Start the consultation", [Role.gp, Role.specialist])
_action_endpoint(Action.complete, "Complete the consultation", [Role.specialist])
_action_endpoint(Action.cancel, "Cancel (frees the slot)", [Role.gp, Role.specialist, Role.admin])
_action_endpoint(Action.no_show, "Record a no-show", [Role.gp, Role.specialist])
