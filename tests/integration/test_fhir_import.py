"""POST /fhir: a laboratory's transaction bundle (a lipid panel and an HbA1c) written into
the passport in one transaction, once, for patients its facility serves; a malformed bundle
refused whole with an OperationOutcome."""

from __future__ import annotations

import copy
from typing import Any

from teleconsult.clock import FakeClock

from ..factories import facility, patient
from .passport_support import clinic

IIN = "urn:oid:1.2.398.7.1.9.1"
LAB = "urn:oid:1.2.398.99.1.lab-invivo"
FHIR = "application/fhir+json"


def _observation(
    ident: str,
    loinc: str,
    name: str,
    value: float,
    unit: str,
    low: float | None,
    high: float | None,
    iin: str,
) -> dict[str, Any]:
    ref: dict[str, Any] = {}
    if low is not None:
        ref["low"] = {
            "value": low,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        }
    if high is not None:
        ref["high"] = {
            "value": high,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        }
    return {
        "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{ident[-12:].rjust(12, '0')}",
        "resource": {
            "resourceType": "Observation",
            "identifier": [{"system": LAB, "value": ident}],
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": name}]},
            "subject": {"reference": f"Patient?identifier={IIN}|{iin}"},
            "effectiveDateTime": "2026-12-01T08:30:00+05:00",
            "issued": "2026-12-01T14:00:00+05:00",
            "valueQuantity": {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
            "referenceRange": [ref] if ref else [],
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def lab_bundle(iin: str) -> dict[str, Any]:
    results = [
        (
            "ORD-77-CHOL",
            "14647-2",
            "Cholesterol [Moles/volume] in Serum or Plasma",
            6.1,
            "mmol/L",
            None,
            5.2,
        ),
        ("ORD-77-HDL", "14646-4", "HDL Cholesterol [Moles/volume]", 1.0, "mmol/L", 1.0, None),
        ("ORD-77-LDL", "22748-8", "LDL Cholesterol [Moles/volume]", 4.1, "mmol/L", None, 3.0),
        ("ORD-77-TG", "14927-8", "Triglyceride [Moles/volume]", 2.2, "mmol/L", None, 1.7),
        ("ORD-77-A1C", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 8.2, "%", None, 6.0),
    ]
    entries = [_observation(*r, iin) for r in results]
    report = {
        "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000aa",
        "resource": {
            "resourceType": "DiagnosticReport",
            "identifier": [{"system": LAB, "value": "ORD-77"}],
            "status": "final",
            "code": {
                "coding": [
                    {"system": "http://loinc.org", "code": "57698-3", "display": "Lipid panel"}
                ]
            },
            "subject": {"reference": f"Patient?identifier={IIN}|{iin}"},
            "effectiveDateTime": "2026-12-01T08:30:00+05:00",
            "issued": "2026-12-01T14:00:00+05:00",
            "result": [{"reference": e["fullUrl"]} for e in entries[:4]],
            "conclusion": "Dyslipidaemia",
        },
        "request": {"method": "POST", "url": "DiagnosticReport"},
    }
    document = {
        "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000bb",
        "resource": {
            "resourceType": "DocumentReference",
            "identifier": [{"system": LAB, "value": "ORD-77-PDF"}],
            "status": "current",
            "subject": {"identifier": {"system": IIN, "value": iin}},
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "url": "https://lab.example.kz/reports/ORD-77.pdf",
                        "title": "Laboratory report ORD-77",
                    }
                }
            ],
        },
        "request": {"method": "POST", "url": "DocumentReference"},
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [*entries, report, document]}


async def send_bundle(client: Any, key: str | None, bundle: Any) -> tuple[int, Any]:
    headers = {"Content-Type": FHIR}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    import json

    resp = await client.post("/api/v1/fhir", data=json.dumps(bundle), headers=headers)
    return resp.status, await resp.json(content_type=None)


async def test_laboratory_bundle_written_once(client: Any, database: Any, clock: FakeClock) -> None:
    c = await clinic(client, database.engine)
    w = c.w
    status, system = await w.admin.post(
        "/system-accounts",
        {"name": "Invivo laboratory", "kind": "laboratory", "facility_id": w.clinic},
    )
    assert status == 201, system
    key = system["api_key"]
    status, listed = await w.admin.get("/system-accounts")
    assert "api_key" not in listed["items"][0]
    status, _ = await w.gp.post(
        "/system-accounts", {"name": "x", "kind": "laboratory", "facility_id": w.clinic}
    )
    assert status == 403
    status, _ = await w.gp.post(
        f"/patients/{c.patient_id}/programmes", {"programme": "diabetes_t2"}
    )
    assert status == 201
    status, me = await w.gp.get(f"/patients/{c.patient_id}")
    iin = me["iin"]

    status, answer = await send_bundle(client, key, lab_bundle(iin))
    assert status == 200, answer
    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 7

    status, passport = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200
    items = passport["items"]
    labs = [e for e in items if e["kind"] == "lab_result"]
    assert len(labs) == 5
    cholesterol = labs[0]["body"]
    assert cholesterol["loinc"] == "14647-2" and cholesterol["value"] == 6.1
    assert cholesterol["unit"] == "mmol/L" and cholesterol["reference_range"] == "< 5.2 mmol/L"
    assert cholesterol["provenance"]["system"] == "Invivo laboratory"
    assert cholesterol["provenance"]["source_id"] == f"Observation/{LAB}|ORD-77-CHOL"
    assert labs[-1]["body"]["report"] is True and labs[-1]["body"]["value"] == "Dyslipidaemia"
    [a1c] = [e for e in items if e["kind"] == "observation"]
    assert a1c["body"]["measure"] == "hba1c" and a1c["body"]["value"] == 8.2
    assert a1c["body"]["source"] == "system"
    [pdf] = [e for e in items if e["kind"] == "attachment"]
    assert pdf["body"]["url"].endswith("ORD-77.pdf")
    # The HbA1c misses the diabetes programme's target: the GP is told.
    status, attention = await w.gp.get("/attention")
    assert [i["measure"] for i in attention["items"]] == ["hba1c"]
    status, messages = await w.gp.get("/me/messages")
    [told] = [m for m in messages["items"] if m["kind"] == "reading_off_target"]
    assert "8.2 %" in told["text"]

    # Sent again: nothing new is written.
    status, again = await send_bundle(client, key, lab_bundle(iin))
    assert status == 200, again
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"] * 7
    assert [e["response"]["location"] for e in again["entry"]] == [
        e["response"]["location"] for e in answer["entry"]
    ]
    status, passport = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert len(passport["items"]) == len(items)

    # Every write is in the patient's access log.
    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log", limit=200)
    assert status == 200
    appended = [e for e in log["items"] if e["event"] == "passport_append"]
    assert len(appended) >= 7
    imports = [e for e in log["items"] if e["details"].get("action") == "passport.import"]
    assert len(imports) == 2

    # A malformed bundle is refused whole: a valid first entry is not written either.
    bad = copy.deepcopy(lab_bundle(iin))
    for entry in bad["entry"]:
        for ident in entry["resource"]["identifier"]:
            ident["value"] += "-2"
    bad["entry"][3]["resource"]["valueQuantity"]["value"] = "six"
    status, outcome = await send_bundle(client, key, bad)
    assert status == 400, outcome
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert issue["severity"] == "error" and issue["code"] == "invalid"
    assert issue["expression"] == ["Bundle.entry[3].resource.valueQuantity.value"]
    # A bundle fhir.resources accepts but that cannot be written (a document with no link
    # in its last entry): its new first entry is not written either.
    mixed = copy.deepcopy(lab_bundle(iin))
    mixed["entry"][0]["resource"]["identifier"][0]["value"] = "NEW-1"
    mixed["entry"][4]["resource"]["identifier"][0]["value"] = "NEW-A1C"
    mixed["entry"][6]["resource"]["identifier"][0]["value"] = "NEW-2"
    mixed["entry"][6]["resource"]["content"][0]["attachment"].pop("url")
    status, outcome = await send_bundle(client, key, mixed)
    assert status == 400 and outcome["issue"][0]["expression"] == [
        "Bundle.entry[6].resource.content[0].attachment.url"
    ]
    status, passport = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert len(passport["items"]) == len(items)
    # Its new HbA1c, outside the target, told the GP nothing: the message went with it.
    status, again = await w.gp.get("/me/messages")
    assert [m["id"] for m in again["items"]] == [m["id"] for m in messages["items"]]

    # Not a transaction; a resource of another type.
    status, outcome = await send_bundle(client, key, {**lab_bundle(iin), "type": "collection"})
    assert status == 400 and outcome["issue"][0]["expression"] == ["Bundle.type"]
    wrong = lab_bundle(iin)
    wrong["entry"][0]["resource"] = {"resourceType": "Patient", "id": "p1"}
    status, outcome = await send_bundle(client, key, wrong)
    assert status == 400 and outcome["issue"][0]["code"] == "not-supported"


async def test_system_account_limited_to_its_facility(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    w = c.w
    elsewhere = await facility(w.admin, region="astana")
    status, system = await w.admin.post(
        "/system-accounts", {"name": "City lab", "kind": "laboratory", "facility_id": elsewhere}
    )
    assert status == 201
    status, me = await w.gp.get(f"/patients/{c.patient_id}")
    status, outcome = await send_bundle(client, system["api_key"], lab_bundle(me["iin"]))
    assert status == 403 and outcome["issue"][0]["code"] == "forbidden"
    status, passport = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert all(e["kind"] not in ("lab_result", "observation") for e in passport["items"])
    status, log = await c.patient.get(f"/patients/{c.patient_id}/access-log", limit=200)
    denied = [e for e in log["items"] if e["details"].get("action") == "passport.import"]
    assert len(denied) == 1

    # The specialist's hospital's system may write for a patient referred there.
    status, hospital_lab = await w.admin.post(
        "/system-accounts", {"name": "Hospital LIS", "kind": "hospital", "facility_id": w.hospital}
    )
    status, answer = await send_bundle(client, hospital_lab["api_key"], lab_bundle(me["iin"]))
    assert status == 200, answer

    # No key, a wrong key, an unknown patient, a system account used as a person.
    status, outcome = await send_bundle(client, None, lab_bundle(me["iin"]))
    assert status == 401 and outcome["resourceType"] == "OperationOutcome"
    status, outcome = await send_bundle(
        client, system["api_key"][:-2] + "xx", lab_bundle(me["iin"])
    )
    assert status == 401
    other = await patient(w.gp)
    assert other
    status, outcome = await send_bundle(client, hospital_lab["api_key"], lab_bundle("000000000000"))
    assert status == 404 and outcome["issue"][0]["code"] == "not-found"
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {system['api_key']}"})
    assert resp.status == 401


async def test_units_and_dates_as_laboratories_send_them(
    client: Any, database: Any, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    w = c.w
    status, system = await w.admin.post(
        "/system-accounts", {"name": "Lab", "kind": "laboratory", "facility_id": w.clinic}
    )
    status, me = await w.gp.get(f"/patients/{c.patient_id}")
    bundle = lab_bundle(me["iin"])
    # Glucose in mg/dL is kept as a result (the trend is in mmol/L); an HbA1c on a date.
    glucose = _observation("G-1", "2345-7", "Glucose", 126, "mg/dL", 70, 99, me["iin"])
    a1c = bundle["entry"][4]
    a1c["resource"]["effectiveDateTime"] = "2026-12-01"
    bundle["entry"] = [glucose, a1c]
    status, answer = await send_bundle(client, system["api_key"], bundle)
    assert status == 200, answer
    status, passport = await c.patient.get(f"/patients/{c.patient_id}/passport")
    kinds = {e["body"].get("loinc", e["body"].get("measure")): e["kind"] for e in passport["items"]}
    assert kinds == {"2345-7": "lab_result", "4548-4": "observation"}
    status, trend = await c.patient.get(f"/patients/{c.patient_id}/measurements", measure="hba1c")
    assert [p["measured_at"][:10] for p in trend["points"]] == ["2026-12-01"]
    assert trend["points"][0]["source"] == "system"

    # A quantity without its value, a time that is not one: refused with where it is.
    bad = lab_bundle(me["iin"])
    bad["entry"] = [glucose]
    del glucose["resource"]["valueQuantity"]["value"]
    glucose["resource"]["identifier"][0]["value"] = "G-2"
    status, outcome = await send_bundle(client, system["api_key"], bad)
    assert status == 400, outcome
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource.valueQuantity.value"]


async def test_imported_entries_name_their_source(
    client: Any, database: Any, clock: FakeClock
) -> None:
    """The entries a laboratory wrote are shown with its name: the passport names their
    author by id, and GET /people names a system account as it names a clinician."""
    c = await clinic(client, database.engine)
    w = c.w
    status, system = await w.admin.post(
        "/system-accounts",
        {"name": "Invivo laboratory", "kind": "laboratory", "facility_id": w.clinic},
    )
    assert status == 201, system
    status, me = await w.gp.get(f"/patients/{c.patient_id}")
    status, answer = await send_bundle(client, system["api_key"], lab_bundle(me["iin"]))
    assert status == 200, answer
    # The clinic's name as the directory says it (the GP works there too).
    status, gp_named = await w.admin.get("/people", ids=w.gp.id)
    clinic_name = gp_named["items"][0]["facility"]
    assert clinic_name

    status, passport = await c.patient.get(f"/patients/{c.patient_id}/passport")
    assert status == 200, passport
    authors = {e["author_id"] for e in passport["items"]}
    assert authors == {system["id"]}
    for reader in (c.patient, w.gp):
        status, named = await reader.get("/people", ids=system["id"])
        assert status == 200, named
        assert named["items"] == [
            {
                "id": system["id"],
                "name": "Invivo laboratory",
                "role": "laboratory",
                "facility": clinic_name,
                "specialties": [],
            }
        ]
    # Named together with a clinician, as a page asks for a passport's authors at once.
    status, named = await c.patient.get("/people", ids=f"{system['id']},{w.gp.id}")
    assert {p["role"] for p in named["items"]} == {"laboratory", "gp"}
