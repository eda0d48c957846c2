from __future__ import annotations

from ..accounts.systems import (
    SystemAccountCreated,
    SystemAccountIn,
    SystemAccountOut,
    create_system_account,
    list_system_accounts,
)
from ..api import Ctx, Page, Router
from ..appkeys import PASSWORDS
from ..codes import Role
from . import service
from .schemas import (
    EnrolIn,
    EnrolmentOut,
    FollowUpOut,
    PatientProgrammesOut,
    ProgrammeEdit,
    ProgrammeOut,
)

router = Router("programmes")


@router.get(
    "/programmes", summary="Follow-up programmes", response=Page[ProgrammeOut], read_only=True
)
async def programmes(ctx: Ctx) -> Page[ProgrammeOut]:
    return Page[ProgrammeOut](items=await service.list_programmes(ctx.session))


@router.post(
    "/programmes/{code}",
    summary="Edit a programme (administrators)",
    body=ProgrammeEdit,
    response=ProgrammeOut,
    roles=[Role.admin],
)
async def edit(ctx: Ctx) -> ProgrammeOut:
    return await service.edit_programme(
        ctx.session, ctx.me, ctx.request.match_info["code"], ctx.body, now=ctx.clock.now()
    )


@router.get(
    "/patients/{id}/programmes",
    summary="A patient's enrolments and the programmes their diagnoses propose",
    response=PatientProgrammesOut,
    roles=[Role.gp, Role.specialist, Role.patient],
)
async def of_patient(ctx: Ctx) -> PatientProgrammesOut:
    return await service.patient_programmes(
        ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now(), client=ctx.client
    )


@router.post(
    "/patients/{id}/programmes",
    summary="Enrol a patient in a programme",
    body=EnrolIn,
    response=EnrolmentOut,
    status=201,
    roles=[Role.gp],
)
async def enrol(ctx: Ctx) -> EnrolmentOut:
    return await service.enrol(
        ctx.session, ctx.me, ctx.path_id(), ctx.body.programme, now=ctx.clock.now()
    )


@router.post(
    "/enrolments/{id}/end",
    summary="End an enrolment",
    response=EnrolmentOut,
    roles=[Role.gp],
)
async def end(ctx: Ctx) -> EnrolmentOut:
    return await service.end_enrolment(ctx.session, ctx.me, ctx.path_id(), now=ctx.clock.now())


@router.get(
    "/followup",
    summary="The facility's enrolled patients, overdue first",
    response=FollowUpOut,
    roles=[Role.gp],
    read_only=True,
)
async def followup(ctx: Ctx) -> FollowUpOut:
    return FollowUpOut(items=await service.follow_up(ctx.session, ctx.me, now=ctx.clock.now()))


@router.post(
    "/system-accounts",
    summary="Create a laboratory or hospital system account (its API key is shown once)",
    body=SystemAccountIn,
    response=SystemAccountCreated,
    status=201,
    roles=[Role.admin],
)
async def new_system(ctx: Ctx) -> SystemAccountCreated:
    return await create_system_account(
        ctx.session, ctx.request.app[PASSWORDS], ctx.me.id, ctx.body, now=ctx.clock.now()
    )


@router.get(
    "/system-accounts",
    summary="System accounts",
    response=Page[SystemAccountOut],
    roles=[Role.admin],
    read_only=True,
)
async def systems(ctx: Ctx) -> Page[SystemAccountOut]:
    return Page[SystemAccountOut](items=await list_system_accounts(ctx.session))
