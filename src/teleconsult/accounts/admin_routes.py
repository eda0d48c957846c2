"""The administrator's routes: accounts, one-time links, a patient's account (the work is in
``admin.py``)."""

from __future__ import annotations

from ..api import Ctx, Page, Router
from ..appkeys import MESSAGES, PASSWORDS
from ..codes import Role
from ..facilities.names import language_of
from ..notify.channels import real_channels
from ..notify.service import Reach
from .admin import (
    Sending,
    find_patients,
    issue_reset,
    list_users,
    patient_account,
    reset_password,
    set_active,
)
from .admin_schemas import (
    AdminUserOut,
    PasswordResetIn,
    PasswordResetOut,
    PatientAccountIn,
    PatientPick,
    PatientQuery,
    ResetLinkOut,
    UserQuery,
)

router = Router("admin")


def sending_of(ctx: Ctx) -> Sending:
    channels = ctx.request.app[MESSAGES].channels
    return Sending(Reach(frozenset(channels), real_channels(channels)), ctx.base_url)


@router.get(
    "/users",
    summary="Accounts by name, found by name or username and filtered by role (paged)",
    query=UserQuery,
    response=Page[AdminUserOut],
    roles=[Role.admin],
    read_only=True,
)
async def users(ctx: Ctx) -> Page[AdminUserOut]:
    items, nxt = await list_users(ctx.session, ctx.query, language_of(ctx.request, ctx.me))
    return Page[AdminUserOut](items=items, next=nxt)


@router.post(
    "/users/{id}/disable",
    summary="Disable an account: its sessions end at once (audited)",
    response=AdminUserOut,
    roles=[Role.admin],
    optional_body=True,
)
async def disable(ctx: Ctx) -> AdminUserOut:
    return await _set_active(ctx, False)


@router.post(
    "/users/{id}/enable",
    summary="Enable an account again (audited)",
    response=AdminUserOut,
    roles=[Role.admin],
    optional_body=True,
)
async def enable(ctx: Ctx) -> AdminUserOut:
    return await _set_active(ctx, True)


async def _set_active(ctx: Ctx, active: bool) -> AdminUserOut:
    return await set_active(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        active,
        now=ctx.clock.now(),
        client=ctx.client,
        language=language_of(ctx.request, ctx.me),
    )


@router.post(
    "/users/{id}/password-reset",
    summary="Send a one-time password-reset link to the account's holder (stored hashed)",
    response=ResetLinkOut,
    status=201,
    roles=[Role.admin],
    optional_body=True,
)
async def password_reset_link(ctx: Ctx) -> ResetLinkOut:
    return await issue_reset(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        now=ctx.clock.now(),
        client=ctx.client,
        language=language_of(ctx.request, ctx.me),
        sending=sending_of(ctx),
    )


@router.post(
    "/auth/password-reset",
    summary="Set a new password with a one-time link's token",
    body=PasswordResetIn,
    response=PasswordResetOut,
    public=True,
)
async def password_reset(ctx: Ctx) -> PasswordResetOut:
    return await reset_password(
        ctx.session, ctx.request.app[PASSWORDS], ctx.body, now=ctx.clock.now(), client=ctx.client
    )


@router.get(
    "/admin/patients",
    summary="Patients by name or IIN, to pick one for an account",
    query=PatientQuery,
    response=Page[PatientPick],
    roles=[Role.admin],
    read_only=True,
)
async def patients(ctx: Ctx) -> Page[PatientPick]:
    return Page[PatientPick](items=await find_patients(ctx.session, ctx.query))


@router.post(
    "/patients/{id}/account",
    summary="Create the patient's account from their record; sends them a one-time link "
    "(an administrator, or the patient's GP)",
    body=PatientAccountIn,
    response=ResetLinkOut,
    status=201,
    roles=[Role.admin, Role.gp],
)
async def create_patient_account(ctx: Ctx) -> ResetLinkOut:
    return await patient_account(
        ctx.session,
        ctx.me,
        ctx.path_id(),
        ctx.body,
        now=ctx.clock.now(),
        client=ctx.client,
        language=language_of(ctx.request, ctx.me),
        sending=sending_of(ctx),
    )
