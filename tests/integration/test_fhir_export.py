from __future__ import annotations

from collections import Counter
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import user
from .passport_support import clinic, grant, note, prescription
from .test_fhir_import import lab_bundle, send_bundle


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


async def test_measurements_are_exported_as_observations_under_the_grant(
    client: Any, database: Database, clock: FakeClock
) -> None:
    """The GP's, the patient's and a laboratory's measurements travel as LOINC-coded
    Observations in UCUM, with when and by whom; a grantee without lab results sees none."""
    c = await clinic(client, database.engine)
    gp, pid = c.w.gp, c.patient_id
    await grant(c, clock, user_id=gp.id, categories=["lab_results"])
    path = f"/patients/{pid}/measurements"
    status, bp = await gp.post(path, {"measure": "bp", "value": 150, "value2": 95})
    assert status == 201, bp
    status, pulse = await c.patient.post(path, {"measure": "pulse", "value": 72})
    assert status == 201, pulse
    status, system = await c.w.admin.post(
        "/system-accounts",
        {"name": "Invivo laboratory", "kind": "laboratory", "facility_id": c.w.clinic},
    )
    assert status == 201, system
    status, patient = await gp.get(f"/patients/{pid}")
    status, answer = await send_bundle(client, system["api_key"], lab_bundle(patient["iin"]))
    assert status == 200, answer

    status, body = await gp.get(f"/patients/{pid}/fhir")
    assert status == 200, body
    resources = [e.resource for e in Bundle.model_validate(body).entry]
    found = {r.id: r for r in resources}
    pressure = found[bp["entry_id"]]
    assert pressure.code.coding[0].code == "85354-9"
    assert pressure.code.coding[0].system == "http://loinc.org"
    assert [(p.code.coding[0].code, p.valueQuantity.value) for p in pressure.component] == [
        ("8480-6", 150),
        ("8462-4", 95),
    ]
    assert {p.valueQuantity.code for p in pressure.component} == {"mm[Hg]"}
    assert pressure.effectiveDateTime.isoformat() == bp["measured_at"].replace("Z", "+00:00")
    assert pressure.performer[0].reference == f"Practitioner/{gp.id}"
    home = found[pulse["entry_id"]]
    assert (home.valueQuantity.value, home.valueQuantity.system) == (
        72,
        "http://unitsofmeasure.org",
    )
    assert home.performer[0].reference == f"Patient/{pid}"
    [a1c] = [
        r
        for r in resources
        if r.get_resource_type() == "Observation"
        and r.code.coding
        and r.code.coding[0].code == "4548-4"
    ]
    assert float(a1c.valueQuantity.value) == 8.2 and a1c.valueQuantity.code == "%"
    assert a1c.performer[0].display == "Invivo laboratory"

    # Someone the patient lets read prescriptions only: no measurement at all.
    pharmacist = await _prescriptions_reader(c, clock)
    status, narrow = await pharmacist.get(f"/patients/{pid}/fhir")
    assert status == 200, narrow
    kinds = Counter(e.resource.get_resource_type() for e in Bundle.model_validate(narrow).entry)
    assert kinds["Observation"] == 0
