from __future__ import annotations

from aiohttp import web

from ..api import Ctx, Page, Router, render
from ..codes import Role
from ..errors import field_error
from . import invitations, moving, record, service
from .lifecycle import Action, require_conclusion
from .schemas import (
    ActionIn,
    ConsultationCreate,
    ConsultationOut,
    ConsultationQuery,
    MoveIn,
    ParticipantIn,
    ParticipantOut,
    ParticipantPage,
)

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
    key = _idempotency_key(ctx)
    out, status = await service.book_once(
        ctx.session, ctx.bus, ctx.me, ctx.body, idempotency_key=key, now=ctx.clock.now()
    )
    return render(out, status)


def _idempotency_key(ctx: Ctx) -> str | None:
    key = ctx.request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (1 <= len(key) <= 200):
        raise field_error(
            IDEMPOTENCY_HEADER, "must be 1-200 characters", code="idempotency_key_length"
        )
    return key


@router.post(
    "/consultations/{id}/move",
    summary="Move a booked video call to another free slot of its specialist "
    "(without slot_id: the earliest)",
    body=MoveIn,
    optional_body=True,
    response=ConsultationOut,
    roles=[Role.gp, Role.specialist],
)
async def move(ctx: Ctx) -> web.StreamResponse:
    out = await moving.move_once(
        ctx.session,
        ctx.bus,
        ctx.me,
        ctx.path_id(),
        ctx.body or MoveIn(),
        idempotency_key=_idempotency_key(ctx),
        now=ctx.clock.now(),
        client=ctx.client,
    )
    return render(out, 200)


@router.get(
    "/consultations",
    summary="Consultations you may see; emergencies first",
    read_only=True,
    query=ConsultationQuery,
    response=Page[ConsultationOut],
)
async def list_consultations(ctx: Ctx) -> Page[ConsultationOut]:
    items, nxt = await service.list_consultations(ctx.session, ctx.me, ctx.query)
    return Page[ConsultationOut](items=items, next=nxt)


@router.get(
    "/consultations/{id}", summary="One consultation", response=ConsultationOut, read_only=True
)
async def get_consultation(ctx: Ctx) -> ConsultationOut:
    consultation = await service.get_consultation(ctx.session, ctx.me, ctx.path_id())
    return ConsultationOut.model_validate(consultation)


@router.get(
    "/consultations/{id}/record",
    summary="The consultation's record: referral, conclusion and what was written in it",
    response=record.RecordOut,
)
async def consultation_record(ctx: Ctx) -> record.RecordOut:
    return await record.read_record(
        ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now(), client=ctx.client
    )


def _participant_out(invited: invitations.Invited) -> ParticipantOut:
    p, request = invited.participant, invited.consent
    return ParticipantOut(
        user_id=p.user_id,
        invited_by=p.invited_by,
        invited_at=p.invited_at,
        consent_request_id=p.consent_request_id,
        consent_status=request.status if request is not None else None,
    )


@router.post(
    "/consultations/{id}/participants",
    summary="Invite a specialist of another specialty (the consultation's specialist only)",
    body=ParticipantIn,
    response=ParticipantOut,
    status=201,
    roles=[Role.specialist, Role.gp],
)
async def invite_participant(ctx: Ctx) -> ParticipantOut:
    invited = await invitations.invite_specialist(
        ctx.session, ctx.me, ctx.path_id(), ctx.body.user_id, ctx.clock.now()
    )
    return _participant_out(invited)


@router.get(
    "/consultations/{id}/participants",
    summary="The specialists invited into a consultation, with the patient's consent for each",
    response=ParticipantPage,
    read_only=True,
    roles=[Role.specialist, Role.gp, Role.patient],
)
async def list_participants(ctx: Ctx) -> ParticipantPage:
    found = await invitations.participants(ctx.session, ctx.me, ctx.path_id())
    return ParticipantPage(items=[_participant_out(i) for i in found])


def _action_endpoint(action: Action, summary: str, roles: list[Role]) -> None:
    async def act(ctx: Ctx) -> ConsultationOut:
        body: ActionIn = ctx.body or ActionIn()
        require_conclusion(action, body.conclusion)
        consultation = await service.take_action(
            ctx.session,
            ctx.bus,
            ctx.me,
            ctx.path_id(),
            action,
            now=ctx.clock.now(),
            conclusion=body.conclusion,
        )
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
