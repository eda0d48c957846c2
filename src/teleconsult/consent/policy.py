"""The consent decision, as a pure function of grants, break-glass sessions and time.

Every access to a patient's passport — read, search, write, FHIR export, verification — is
decided here and nowhere else. Permit only for:

* the patient themself (reading their own data);
* an active grant (not revoked, not expired) naming the actor or the actor's facility, with
  enough access (``read_write`` for writes) and covering the categories needed;
* an active break-glass session opened by the actor (emergency read access).

Anything else is a denial.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ..codes import Role

BREAK_GLASS_MAX = timedelta(hours=4)
GRANT_MAX = timedelta(days=365)


class Access(StrEnum):
    read = "read"
    write = "write"


class GrantAccess(StrEnum):
    read = "read"
    read_write = "read_write"


class Category(StrEnum):
    notes = "notes"
    diagnoses = "diagnoses"
    prescriptions = "prescriptions"
    lab_results = "lab_results"
    attachments = "attachments"
    recording = "recording"


ALL_CATEGORIES = frozenset(Category)


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    role: str
    facility_id: uuid.UUID | None
    patient_id: uuid.UUID | None


@dataclass(frozen=True)
class Grant:
    id: uuid.UUID
    grantee_user_id: uuid.UUID | None
    grantee_facility_id: uuid.UUID | None
    access: GrantAccess
    categories: frozenset[str] | None
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class BreakGlass:
    id: uuid.UUID
    actor_id: uuid.UUID
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Decision:
    permit: bool
    reason: str
    # For a permitted read: the categories that may be shown (None means all of them).
    categories: frozenset[str] | None = None

    @property
    def outcome(self) -> str:
        return "permit" if self.permit else "deny"


def grant_is_active(grant: Grant, now: datetime) -> bool:
    return grant.revoked_at is None and now < grant.expires_at


def break_glass_is_active(session: BreakGlass, now: datetime) -> bool:
    return session.ended_at is None and session.started_at <= now < session.ends_at


def _names(grant: Grant, actor: Actor) -> bool:
    if grant.grantee_user_id is not None:
        return grant.grantee_user_id == actor.id
    return actor.facility_id is not None and grant.grantee_facility_id == actor.facility_id


def _allows(grant: Grant, access: Access) -> bool:
    return access == Access.read or grant.access == GrantAccess.read_write


def decide(
    actor: Actor,
    patient_id: uuid.UUID,
    access: Access,
    needed: frozenset[str] | None,
    grants: Iterable[Grant],
    break_glass: Iterable[BreakGlass],
    now: datetime,
) -> Decision:
    """Permit or deny ``actor`` doing ``access`` on the patient's ``needed`` categories.

    ``needed`` None asks "may the actor read anything, and which categories?"; the permit
    then carries the categories to show.
    """
    if actor.role == Role.patient:
        if actor.patient_id == patient_id and access == Access.read:
            return Decision(True, "the patient themself", None)
        return Decision(False, "a patient reads only their own passport and writes none")
    if actor.role not in (Role.gp, Role.specialist):
        return Decision(False, "only clinicians are given access to a passport")

    usable = [
        g for g in grants if grant_is_active(g, now) and _names(g, actor) and _allows(g, access)
    ]
    emergency = (
        [b for b in break_glass if b.actor_id == actor.id and break_glass_is_active(b, now)]
        if access == Access.read
        else []
    )

    if needed is None:
        if emergency:
            return Decision(True, f"break-glass {emergency[0].id}", None)
        if not usable:
            return Decision(False, "no active consent for this clinician")
        if any(g.categories is None for g in usable):
            return Decision(True, _grant_reason(usable), None)
        shown = frozenset().union(*(g.categories or frozenset() for g in usable))
        return Decision(True, _grant_reason(usable), shown)

    if emergency:
        return Decision(True, f"break-glass {emergency[0].id}", needed)
    missing = [
        c
        for c in sorted(needed)
        if not any(g.categories is None or c in g.categories for g in usable)
    ]
    if not usable:
        return Decision(False, f"no active consent to {access.value} for this clinician")
    if missing:
        return Decision(False, f"consent does not cover {', '.join(missing)}")
    return Decision(True, _grant_reason(usable), needed)


def _grant_reason(grants: list[Grant]) -> str:
    return "consent " + ", ".join(sorted(str(g.id) for g in grants))
