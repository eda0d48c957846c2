"""Consent grants: the patient grants a clinician or a facility access to their passport
until a date, lists what they granted, and revokes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts import directory
from ..accounts.models import User
from ..codes import Role
from ..errors import Forbidden, NotFound, field_error
from ..facilities.models import Facility
from .decision import hold_consent
from .models import ConsentGrant
from .policy import GRANT_MAX, Category, Grant, GrantAccess, grant_is_active
from .schemas import GrantCreate, GrantOut
from .trail import audit_event


def own_patient(user: User, patient_id: uuid.UUID) -> None:
    """Only the patient themself manages consent to their passport."""
    if user.role != Role.patient or user.patient_id != patient_id:
        raise Forbidden(
            "Only the patient manages consent to their passport.", code="consent_patient_only"
        )


def check_expiry(expires_at: datetime, now: datetime) -> None:
    """A grant (or a request for one) ends in the future, at most a year ahead."""
    if expires_at <= now:
        raise field_error("expires_at", "must be in the future", "expires_in_past")
    if expires_at > now + GRANT_MAX:
        raise field_error("expires_at", "must be at most one year ahead", "expires_too_far")


def stored_categories(values: Iterable[Category] | None) -> list[str] | None:
    """Categories as a grant keeps them: sorted, each once; None for every category."""
    return sorted({c.value for c in values}) if values is not None else None


async def clinician(session: AsyncSession, user_id: uuid.UUID, field: str) -> User:
    """The active GP or specialist a grant would name; a 422 on ``field`` otherwise."""
    grantee = await session.get(User, user_id)
    if grantee is None or not grantee.is_active or grantee.role not in (Role.gp, Role.specialist):
        raise field_error(field, "no such clinician", "no_such_clinician")
    return grantee


async def grant_consent(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    data: GrantCreate,
    *,
    now: datetime,
    client: str | None,
) -> GrantOut:
    """The patient grants a user or a facility access to their passport until a date."""
    own_patient(user, patient_id)
    if (data.grantee_user_id is None) == (data.grantee_facility_id is None):
        raise field_error(
            "grantee_user_id", "give grantee_user_id or grantee_facility_id", "grantee_required"
        )
    if data.grantee_user_id is not None:
        await clinician(session, data.grantee_user_id, "grantee_user_id")
    elif await session.get(Facility, data.grantee_facility_id) is None:
        raise field_error("grantee_facility_id", "no such facility", "no_such_facility")
    check_expiry(data.expires_at, now)
    grant = ConsentGrant(
        id=uuid.uuid4(),
        patient_id=patient_id,
        grantee_user_id=data.grantee_user_id,
        grantee_facility_id=data.grantee_facility_id,
        access=data.access.value,
        categories=stored_categories(data.categories),
        expires_at=data.expires_at,
        created_at=now,
        granted_by=user.id,
        source="portal",
    )
    session.add(grant)
    await session.flush()
    await audit_grant(session, grant, user.id, now, client)
    return (await named_grants(session, [grant], now))[0]


async def audit_grant(
    session: AsyncSession,
    grant: ConsentGrant,
    actor_id: uuid.UUID,
    now: datetime,
    client: str | None,
) -> None:
    """Audit a new grant for the patient: to whom, what, until when, and how it was given."""
    grantee = (
        f"user {grant.grantee_user_id}"
        if grant.grantee_user_id is not None
        else f"facility {grant.grantee_facility_id}"
    )
    categories = ", ".join(grant.categories) if grant.categories else "all categories"
    await audit_event(
        session,
        grant.patient_id,
        "consent.grant",
        f"grant {grant.id}: {grant.access} to {grantee} ({categories})"
        f" until {grant.expires_at.isoformat()} via {grant.source}",
        actor_id=actor_id,
        at=now,
        client=client,
    )


def is_active(grant: ConsentGrant, now: datetime) -> bool:
    """Whether a stored grant would permit anything at ``now`` (not revoked, not expired)."""
    view = Grant(
        id=grant.id,
        grantee_user_id=grant.grantee_user_id,
        grantee_facility_id=grant.grantee_facility_id,
        access=GrantAccess(grant.access),
        categories=frozenset(grant.categories) if grant.categories is not None else None,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
    )
    return grant_is_active(view, now)


async def list_grants(
    session: AsyncSession, user: User, patient_id: uuid.UUID, *, now: datetime
) -> list[GrantOut]:
    """Every grant the patient ever gave, newest first."""
    own_patient(user, patient_id)
    rows = await session.scalars(
        select(ConsentGrant)
        .where(ConsentGrant.patient_id == patient_id)
        .order_by(ConsentGrant.created_at.desc(), ConsentGrant.id)
    )
    return await named_grants(session, list(rows), now)


async def revoke_grant(
    session: AsyncSession,
    user: User,
    patient_id: uuid.UUID,
    grant_id: uuid.UUID,
    *,
    now: datetime,
    client: str | None,
) -> GrantOut:
    """Revoke a grant; the grantee is refused from the very next request, and no write
    permitted under it commits after this is answered (``decision.hold_consent``)."""
    own_patient(user, patient_id)
    await hold_consent(session, patient_id, narrowing=True)
    grant = await session.scalar(
        select(ConsentGrant)
        .where(ConsentGrant.id == grant_id, ConsentGrant.patient_id == patient_id)
        .with_for_update()
    )
    if grant is None:
        raise NotFound(code="consent_not_found")
    if grant.revoked_at is None:
        grant.revoked_at = now
        grant.revoked_by = user.id
        await session.flush()
        await audit_event(
            session,
            patient_id,
            "consent.revoke",
            f"grant {grant.id} revoked",
            actor_id=user.id,
            at=now,
            client=client,
        )
    return (await named_grants(session, [grant], now))[0]


async def named_grants(
    session: AsyncSession, grants: Sequence[ConsentGrant], now: datetime
) -> list[GrantOut]:
    """The grants as shown, each with whether it permits at ``now`` and the person or place
    it names by name (``accounts.directory``): a patient consents to a doctor, not an id."""
    users = await directory.people(session, (g.grantee_user_id for g in grants))
    places = await directory.facilities(session, (g.grantee_facility_id for g in grants))
    out = []
    for grant in grants:
        item = GrantOut.model_validate(grant)
        item.active = is_active(grant, now)
        if grant.grantee_user_id is not None:
            item.grantee = users.get(grant.grantee_user_id)
        if grant.grantee_facility_id is not None:
            item.grantee_facility = places.get(grant.grantee_facility_id)
        out.append(item)
    return out
