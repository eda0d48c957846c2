from __future__ import annotations

from collections import Counter
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import user
from .passport_support import clinic, grant, note, prescription


async def test_exported_bundle_validates_and_carries_the_passport(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await grant(c, clock, facility_id=c.other_facility, access="read", categories=["notes"])
    _, n = await note(c.w.specialist, c.consultation_id, "Hypertension, stage 2", ["I10"])
    _, p = await prescription(c.w.specialist, c.consultation_id, "Amlodipin")
    _, p2 = await prescription(c.w.specialist, c.consultation_id, "Amlodipine", amends=p["id"])
    status, _ = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "lab_result", "body": {"test": "Potassium", "value": 4.2, "unit": "mmol/L"}},
    )
    assert status == 201

    status, body = await c.w.specialist.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200, body
    bundle = Bundle.model_validate(body)
    assert bundle.type == "collection"
    resources = [e.resource for e in bundle.entry]
    counts = Counter(r.get_resource_type() for r in resources)
    assert counts == {
        "Patient": 1,
        "Encounter": 1,
        "Condition": 1,
        "MedicationRequest": 2,
        "Observation": 2,
        "Consent": 1,  # the specialist's own grant; whom else the patient lets read is private
        "Provenance": 5,
    }, counts
    by_id = {r.id: r for r in resources}
    assert by_id[c.patient_id].identifier[0].value.isdigit()
    condition = next(r for r in resources if r.get_resource_type() == "Condition")
    assert condition.code.coding[0].code == "I10"
    assert condition.code.coding[0].system == "http://hl7.org/fhir/sid/icd-10"
    assert condition.encounter.reference == f"Encounter/{c.consultation_id}"
    assert by_id[p["id"]].status == "entered-in-error"
    assert by_id[p2["id"]].status == "active"
    provenance = [r for r in resources if r.get_resource_type() == "Provenance"]
    targets = {pr.target[0].reference for pr in provenance}
    assert f"Observation/{n['id']}" in targets
    revision = next(pr for pr in provenance if pr.target[0].reference.endswith(p2["id"]))
    assert revision.entity[0].what.reference == f"MedicationRequest/{p['id']}"
    assert revision.policy[0].endswith(p2["hash"])
    # The patient exports their own passport too.
    status, own = await c.patient.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200
    mine = [e.resource for e in Bundle.model_validate(own).entry]
    assert sum(r.get_resource_type() == "Consent" for r in mine) == 2


async def _prescriptions_reader(c: Any, clock: FakeClock) -> Any:
    """A specialist of another facility whom the patient lets read prescriptions only."""
    pharmacist = await user(
        c.w.admin, "specialist", facility_id=c.other_facility, specialties=["psychiatry"]
    )
    await grant(c, clock, user_id=pharmacist.id, access="read", categories=["prescriptions"])
    return pharmacist


async def test_a_narrow_grantee_exports_only_what_the_grant_allows(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, "Depressive episode", ["F32"])
    await prescription(c.w.specialist, c.consultation_id, "Sertraline")
    pharmacist = await _prescriptions_reader(c, clock)

    status, body = await pharmacist.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200, body
    resources = [e.resource for e in Bundle.model_validate(body).entry]
    kinds = Counter(r.get_resource_type() for r in resources)
    assert kinds["MedicationRequest"] == 1
    assert "Condition" not in kinds and kinds["Observation"] == 0
    # Only the grant that lets them read; not who else (the specialist) may.
    consents = [r for r in resources if r.get_resource_type() == "Consent"]
    assert len(consents) == 1
    grantee = consents[0].provision.actor[0].reference.reference
    assert grantee == f"Practitioner/{pharmacist.id}"


async def test_a_narrow_grantee_verifying_learns_nothing_of_what_it_may_not_read(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    await note(c.w.specialist, c.consultation_id, "Depressive episode", ["F32"])
    await note(c.w.specialist, c.consultation_id, "Follow-up in a month")
    await prescription(c.w.specialist, c.consultation_id, "Sertraline")
    pharmacist = await _prescriptions_reader(c, clock)
    status, narrow = await pharmacist.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200, narrow
    assert narrow == {"ok": True, "entries": 1, "audit_entries": None, "first_bad": None}
    status, whole = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200 and whole["entries"] >= 3 and whole["audit_entries"] > 0
