from __future__ import annotations

from ..api import Ctx, Page, Router
from ..codes import Role
from . import service
from .schemas import PatientCreate, PatientOut, PatientQuery

router = Router("patients")


@router.post(
    "/patients",
    summary="Register a patient by IIN",
    body=PatientCreate,
    response=PatientOut,
    status=201,
    roles=[Role.gp, Role.admin],
)
async def register_patient(ctx: Ctx) -> PatientOut:
    patient = await service.register_patient(ctx.session, ctx.me, ctx.body)
    return PatientOut.model_validate(patient)


@router.get("/patients/{id}", summary="A patient's record", response=PatientOut, read_only=True)
async def get_patient(ctx: Ctx) -> PatientOut:
    patient = await service.get_patient(ctx.session, ctx.me, ctx.path_id())
    return PatientOut.model_validate(patient)


@router.get(
    "/patients",
    summary="Find patients (by IIN)",
    read_only=True,
    query=PatientQuery,
    response=Page[PatientOut],
    roles=[Role.gp, Role.specialist, Role.admin],
)
async def search_patients(ctx: Ctx) -> Page[PatientOut]:
    items, nxt = await service.search_patients(ctx.session, ctx.me, ctx.query)
    return Page[PatientOut](items=items, next=nxt)
