from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from teleconsult.consent.policy import (
    Access,
    Actor,
    BreakGlass,
    Grant,
    GrantAccess,
    decide,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PATIENT = uuid.uuid4()
CLINIC = uuid.uuid4()
DOCTOR = Actor(uuid.uuid4(), "specialist", CLINIC, None)


def grant(**kw: object) -> Grant:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "grantee_user_id": DOCTOR.id,
        "grantee_facility_id": None,
        "access": GrantAccess.read_write,
        "categories": None,
        "expires_at": NOW + timedelta(hours=1),
        "revoked_at": None,
    }
    values.update(kw)
    return Grant(**values)  # type: ignore[arg-type]


def permits(
    grants: list[Grant],
    access: Access = Access.read,
    needed: set[str] | None = None,
    actor: Actor = DOCTOR,
    emergencies: list[BreakGlass] | None = None,
) -> bool:
    return decide(
        actor,
        PATIENT,
        access,
        frozenset(needed) if needed is not None else None,
        grants,
        emergencies or [],
        NOW,
    ).permit


def test_the_patient_reads_their_own_passport_and_writes_none() -> None:
    me = Actor(uuid.uuid4(), "patient", None, PATIENT)
    assert permits([], actor=me)
    assert not permits([], Access.write, {"notes"}, actor=me)
    assert not permits([], actor=Actor(uuid.uuid4(), "patient", None, uuid.uuid4()))


def test_administrators_get_no_passport_access() -> None:
    admin = Actor(uuid.uuid4(), "admin", None, None)
    assert not permits([grant(grantee_user_id=admin.id)], actor=admin)


def test_grants_must_be_active_name_the_actor_and_cover_access_and_category() -> None:
    assert not permits([])
    assert permits([grant()])
    assert permits([grant(grantee_user_id=None, grantee_facility_id=CLINIC)])
    assert not permits([grant(grantee_user_id=uuid.uuid4())])
    assert not permits([grant(grantee_user_id=None, grantee_facility_id=uuid.uuid4())])
    assert not permits([grant(expires_at=NOW)])
    assert permits([grant(expires_at=NOW + timedelta(microseconds=1))])
    assert not permits([grant(revoked_at=NOW - timedelta(seconds=1))])
    assert not permits([grant(access=GrantAccess.read)], Access.write, {"notes"})
    assert permits([grant(access=GrantAccess.read)], Access.read, {"notes"})
    assert not permits([grant(categories=frozenset({"prescriptions"}))], Access.read, {"notes"})
    assert permits([grant(categories=frozenset({"notes"}))], Access.write, {"notes"})
    # Several categories may come from several grants.
    assert permits(
        [grant(categories=frozenset({"notes"})), grant(categories=frozenset({"diagnoses"}))],
        Access.write,
        {"notes", "diagnoses"},
    )
    assert not permits(
        [grant(categories=frozenset({"notes"}))], Access.write, {"notes", "diagnoses"}
    )


def test_an_open_read_shows_the_union_of_granted_categories() -> None:
    decision = decide(
        DOCTOR,
        PATIENT,
        Access.read,
        None,
        [grant(categories=frozenset({"notes"})), grant(categories=frozenset({"lab_results"}))],
        [],
        NOW,
    )
    assert decision.permit and decision.categories == {"notes", "lab_results"}
    decision = decide(
        DOCTOR,
        PATIENT,
        Access.read,
        None,
        [grant(categories=frozenset({"notes"})), grant()],
        [],
        NOW,
    )
    assert decision.permit and decision.categories is None


def test_break_glass_reads_only_while_active_and_only_for_its_actor() -> None:
    active = BreakGlass(
        uuid.uuid4(), DOCTOR.id, NOW - timedelta(hours=1), NOW + timedelta(hours=1), None
    )
    assert permits([], emergencies=[active])
    assert permits([], Access.read, {"notes"}, emergencies=[active])
    assert not permits([], Access.write, {"notes"}, emergencies=[active])
    expired = BreakGlass(active.id, DOCTOR.id, NOW - timedelta(hours=4), NOW, None)
    assert not permits([], emergencies=[expired])
    ended = BreakGlass(active.id, DOCTOR.id, active.started_at, active.ends_at, NOW)
    assert not permits([], emergencies=[ended])
    someone_else = BreakGlass(active.id, uuid.uuid4(), active.started_at, active.ends_at, None)
    assert not permits([], emergencies=[someone_else])
