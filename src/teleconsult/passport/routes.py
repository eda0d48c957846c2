from __future__ import annotations

from typing import Any

from aiohttp import web

from ..api import Ctx, Page, Router
from ..codes import Role
from ..db.paging import seq_cursor
from . import drafts, service
from .prescriptions import allergy_body, check_prescription
from .schemas import (
    AllergyIn,
    EntryIn,
    EntryOut,
    Kind,
    NoteIn,
    PassportQuery,
    PrescriptionCheckIn,
    PrescriptionChecksOut,
    PrescriptionIn,
    VerifyOut,
)

router = Router("passport")

AUTHORS = [Role.gp, Role.specialist]


async def _write(ctx: Ctx, entries: list[drafts.Draft]) -> dict[str, Any]:
    written = await service.write_entries(
        ctx.session, ctx.me, ctx.path_id(), entries, now=ctx.clock.now(), client=ctx.client
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
    return await service.write_note(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.post(
    "/consultations/{id}/prescriptions",
    summary="Write a prescription into the patient's passport",
    body=PrescriptionIn,
    response=EntryOut,
    status=201,
    roles=AUTHORS,
)
async def write_prescription(ctx: Ctx) -> dict[str, Any]:
    return await service.write_prescription(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.post(
    "/patients/{id}/prescription-checks",
    summary="Check a prescription against the formulary and the passport, writing nothing",
    body=PrescriptionCheckIn,
    response=PrescriptionChecksOut,
    roles=AUTHORS,
)
async def prescription_checks(ctx: Ctx) -> PrescriptionChecksOut:
    return await check_prescription(
        ctx.session, ctx.me, ctx.path_id(), ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.post(
    "/consultations/{id}/allergies",
    summary="Record an allergy or intolerance in the patient's passport",
    body=AllergyIn,
    response=EntryOut,
    status=201,
    roles=AUTHORS,
)
async def write_allergy(ctx: Ctx) -> dict[str, Any]:
    data: AllergyIn = ctx.body
    draft = drafts.Draft(Kind.allergy, allergy_body(data), data.amends)
    return await _write(ctx, [draft])


@router.post(
    "/consultations/{id}/entries",
    summary="Write another kind of entry (diagnosis, lab result, referral, attachment, allergy)",
    body=EntryIn,
    response=EntryOut,
    status=201,
    roles=AUTHORS,
)
async def write_entry(ctx: Ctx) -> dict[str, Any]:
    data: EntryIn = ctx.body
    if data.kind == Kind.prescription:
        # Checked as the prescriptions endpoint checks it.
        prescription = drafts.prescription_input({**data.body, "amends": data.amends})
        return await service.write_prescription(
            ctx.session, ctx.me, ctx.path_id(), prescription, now=ctx.clock.now(), client=ctx.client
        )
    return await _write(ctx, [drafts.entry_draft(data)])


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
