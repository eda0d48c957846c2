from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ..conftest import Database
from ..factories import bootstrap_admin, facility, patient, user, valid_iin, world


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"iin": "12345678901"}, "iin"),
        ({"iin": "850412400000"}, "iin"),
        ({"birth_date": "1985-04-13"}, "birth_date"),
        ({"sex": "male"}, "sex"),
        ({"sex": "other"}, "sex"),
        ({"birth_date": "not a date"}, "birth_date"),
    ],
)
async def test_invalid_iin_details_are_422_naming_the_field(
    client: Any, database: Database, change: dict[str, str], field: str
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    gp = await user(admin, "gp", facility_id=await facility(admin))
    iin = valid_iin(date(1985, 4, 12), "female")
    payload = {"iin": iin, "full_name": "Dana Test", "birth_date": "1985-04-12", "sex": "female"}
    payload.update(change)
    status, body = await gp.post("/patients", payload)
    assert status == 422, body
    assert field in body["fields"]
    # No patient data is echoed back.
    assert iin not in str(body) and "Dana Test" not in str(body)


async def test_same_iin_twice_is_a_conflict(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    status, first = await w.gp.get(f"/patients/{w.patient_id}")
    assert status == 200
    status, body = await w.gp.post(
        "/patients",
        {
            "iin": first["iin"],
            "full_name": "Other",
            "birth_date": first["birth_date"],
            "sex": first["sex"],
        },
    )
    assert status == 409
    assert body["fields"] == {"iin": "taken"}


async def test_patients_are_visible_only_to_their_facility(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    other_gp = await user(w.admin, "gp", facility_id=await facility(w.admin))
    status, body = await other_gp.get(f"/patients/{w.patient_id}")
    assert status == 404 and body["error"] == "NotFound"
    _, mine = await w.gp.get(f"/patients/{w.patient_id}")
    status, found = await other_gp.get("/patients", iin=mine["iin"])
    assert status == 200 and found["items"] == []
    status, found = await w.gp.get("/patients", iin=mine["iin"])
    assert [p["id"] for p in found["items"]] == [w.patient_id]
    # A specialist with no consultation for the patient does not see it either.
    assert (await w.specialist.get(f"/patients/{w.patient_id}"))[0] == 404


async def test_patient_account_sees_only_itself(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    other = await patient(w.gp, born=date(1990, 1, 2), sex="male")
    me = await user(w.admin, "patient", patient_id=w.patient_id)
    assert (await me.get(f"/patients/{w.patient_id}"))[0] == 200
    assert (await me.get(f"/patients/{other}"))[0] == 404
    assert (await me.get("/patients"))[0] == 403


async def test_patients_list_pages_with_a_cursor(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    for i in range(4):
        await patient(w.gp, born=date(1970 + i, 3, 3), sex="male")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        status, page = await w.admin.get("/patients", **params)
        assert status == 200, page
        seen += [p["id"] for p in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    status, body = await w.gp.get("/patients", cursor="garbage!!")
    assert status == 422 and "cursor" in body["fields"]
