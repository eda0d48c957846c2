"""The denial matrix: (no consent, wrong grantee, wrong category, expired, revoked) ×
(read, write, FHIR export). Every cell is a 403 that carries no patient data and no counts,
and every denial is in the patient's audit chain even though its request rolled back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select, text

from teleconsult.audit.models import SYSTEM_CHAIN, AuditEntry
from teleconsult.clock import FakeClock
from teleconsult.consent.decision import ConsentDenied

from ..conftest import Database
from ..factories import Api
from .passport_support import Clinic, clinic, grant, note, prescription, relogin

Scenario = Callable[[Clinic, FakeClock], Awaitable[None]]
SECRET_NOTE = "Suspected paroxysmal atrial fibrillation"


async def no_consent(c: Clinic, clock: FakeClock) -> None:
    return None


async def wrong_grantee(c: Clinic, clock: FakeClock) -> None:
    await grant(c, clock, user_id=c.other.id)
    await grant(c, clock, facility_id=c.other_facility)


async def wrong_category(c: Clinic, clock: FakeClock) -> None:
    await grant(c, clock, user_id=c.w.specialist.id, categories=["lab_results", "attachments"])


async def expired(c: Clinic, clock: FakeClock) -> None:
    await grant(c, clock, user_id=c.w.specialist.id, hours=1)
    clock.advance(hours=1, seconds=1)


async def revoked(c: Clinic, clock: FakeClock) -> None:
    g = await grant(c, clock, user_id=c.w.specialist.id)
    status, body = await c.patient.post(f"/patients/{c.patient_id}/consents/{g['id']}/revoke")
    assert status == 200 and body["revoked_at"] is not None and body["active"] is False


SCENARIOS = [no_consent, wrong_grantee, wrong_category, expired, revoked]


async def _deny_count(database: Database, patient_id: str) -> int:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT document FROM audit_entries WHERE chain = :c"), {"c": patient_id}
        )
        return sum(1 for (doc,) in rows if json.loads(doc)["outcome"] == "deny")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
async def test_denial_matrix(
    client: Any, database: Database, clock: FakeClock, scenario: Scenario
) -> None:
    c = await clinic(client, database.engine)
    # Put real data in the passport first, under a grant that is then revoked.
    setup = await grant(c, clock, user_id=c.w.specialist.id)
    status, written = await note(c.w.specialist, c.consultation_id, SECRET_NOTE, ["I48.0"])
    assert status == 201, written
    status, _ = await prescription(c.w.specialist, c.consultation_id, "Apixaban")
    assert status == 201
    await c.patient.post(f"/patients/{c.patient_id}/consents/{setup['id']}/revoke")

    await scenario(c, clock)
    specialist: Api = await relogin(client, c.w.specialist)
    denials_before = await _deny_count(database, c.patient_id)

    operations = {
        "read": specialist.get(f"/patients/{c.patient_id}/passport", kind="note"),
        "write": note(specialist, c.consultation_id, "an addendum"),
        "fhir": specialist.get(f"/patients/{c.patient_id}/fhir", category="notes"),
    }
    forbidden = {
        "error": "ConsentDenied",
        "code": "consent_denied",
        "detail": ConsentDenied.default_detail,
    }
    leaks = [SECRET_NOTE, "I48", "Apixaban", c.patient_id, written["id"], "Test Patient"]
    for name, call in operations.items():
        status, body = await call
        assert (name, status, body) == (name, 403, forbidden)
        raw = json.dumps(body)
        assert not any(leak in raw for leak in leaks), (name, raw)
        assert not any(ch.isdigit() for ch in raw), (name, raw)  # no counts of any kind

    # Each denial was audited, though every one of these requests rolled back.
    assert await _deny_count(database, c.patient_id) == denials_before + 3
    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log", limit="500")
    assert status == 200
    mine = [e for e in log["items"] if e["actor_id"] == c.w.specialist.id]
    assert [(e["action"], e["outcome"]) for e in mine[-3:]] == [
        ("passport.search", "deny"),
        ("passport.write", "deny"),
        ("fhir.export", "deny"),
    ]
    # Nothing was written by the denied write.
    status, page = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert [e["kind"] for e in page["items"]] == ["note", "diagnosis", "prescription"]


async def test_a_category_grant_shows_only_its_categories(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    setup = await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, SECRET_NOTE, ["I48.0"])
    await prescription(c.w.specialist, c.consultation_id, "Apixaban")
    await c.patient.post(f"/patients/{c.patient_id}/consents/{setup['id']}/revoke")
    await grant(c, clock, user_id=c.other.id, access="read", categories=["prescriptions"])

    status, page = await c.other.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    assert [e["kind"] for e in page["items"]] == ["prescription"]
    assert SECRET_NOTE not in json.dumps(page)
    status, bundle = await c.other.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200, bundle
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert "MedicationRequest" in types and "Condition" not in types
    assert SECRET_NOTE not in json.dumps(bundle)
    # A read grant does not write, even in its category.
    status, _ = await prescription(c.other, c.consultation_id)
    assert status in (403, 404)


async def test_a_refused_read_of_no_patient_starts_no_audit_chain(
    client: Any, database: Database
) -> None:
    c = await clinic(client, database.engine)
    nobody = str(uuid.uuid4())
    for path in (f"/patients/{nobody}/passport", f"/patients/{nobody}/fhir"):
        status, body = await c.w.specialist.get(path)
        assert status == 403 and body["error"] == "ConsentDenied", body
    async with database.engine.connect() as conn:
        chains = set(await conn.scalars(select(AuditEntry.chain).distinct()))
        refusals = (
            await conn.scalars(select(AuditEntry.document).where(AuditEntry.chain == SYSTEM_CHAIN))
        ).all()
    assert nobody not in chains
    # Still audited, in the system chain.
    assert sum("no such patient" in doc for doc in refusals) == 2
