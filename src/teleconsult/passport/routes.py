from __future__ import annotations

from typing import Any

from aiohttp import web

from ..api import Ctx, Page, Router
from ..codes import Role
from ..db.paging import seq_cursor
from . import service
from .schemas import EntryIn, EntryOut, NoteIn, PassportQuery, PrescriptionIn, VerifyOut

router = Router("passport")

AUTHORS = [Role.gp, Role.specialist]


async def _write(ctx: Ctx, drafts: list[service.Draft]) -> dict[str, Any]:
    written = await service.write_entries(
        ctx.session, ctx.me, ctx.path_id(), drafts, now=ctx.clock.now(), client=ctx.client
    )
    return written[0]


@router.post(
    "/consultations/{id}/notes",
    summary="Write a note (with ICD-10 diagnoses) into the patient's passport",
    body=NoteIn,
    response=EntryOut,
    status=201,
    roles=AUTHORS,
)
async def write_note(ctx: Ctx) -> dict[str, Any]:
    return await _write(ctx, service.note_drafts(ctx.body))


@router.post(
    "/consultations/{id}/prescriptions",
    summary="Write a prescription into the patient's passport",
    body=PrescriptionIn,
    response=EntryOut,
    status=201,
    roles=AUTHORS,
)
async def write_prescription(ctx: Ctx) -> dict[str, Any]:
    return await _write(ctx, [service.prescription_draft(ctx.body)])


@router.post(
    "/consultations/{id}/entries",
    summary="Write another kind of entry (diagnosis, lab result, referral, attachment)",
    body=EntryIn,
    response=EntryOut,
    status=201,
    roles=AUTHORS,
)
async def write_entry(ctx: Ctx) -> dict[str, Any]:
    return await _write(ctx, [service.entry_draft(ctx.body)])


def _after_seq(cursor: str | None) -> int:
    return seq_cursor(cursor) or 0


@router.get(
    "/patients/{id}/passport",
    summary="The patient's passport (amended view with history), under consent",
    query=PassportQuery,
    response=Page[EntryOut],
)
async def read_passport(ctx: Ctx) -> web.StreamResponse:
    q: PassportQuery = ctx.query
    page = await service.read_passport(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        now=ctx.clock.now(),
        client=ctx.client,
        kind=q.kind,
        text=q.q,
        current_only=q.current,
        after_seq=_after_seq(q.cursor),
        limit=q.limit,
    )
    # The whole body is JSON already (the entries' stored canonical documents, see the service).
    return web.Response(body=page.body, content_type="application/json")


@router.get(
    "/patients/{id}/passport/verify",
    summary="Re-walk the patient's chains and compare with the last checkpoint",
    response=VerifyOut,
)
async def verify(ctx: Ctx) -> VerifyOut:
    return await service.verify_patient(
        ctx.session, ctx.me, ctx.path_id(), ctx.settings, now=ctx.clock.now(), client=ctx.client
    )
