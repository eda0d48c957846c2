"""The GP's "My patients": a search of the GP's own facility's patients by name or IIN."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..conftest import Database
from ..factories import Api, facility, user, valid_iin, world


async def named(gp: Api, name: str, born: date = date(1985, 4, 12), sex: str = "female") -> str:
    status, body = await gp.post(
        "/patients",
        {
            "iin": valid_iin(born, sex),
            "full_name": name,
            "birth_date": born.isoformat(),
            "sex": sex,
        },
    )
    assert status == 201, body
    return str(body["id"])


async def found(gp: Api, q: str, **params: Any) -> list[str]:
    status, page = await gp.get("/patients", q=q, **params)
    assert status == 200, page
    return [p["id"] for p in page["items"]]


async def test_a_gp_finds_only_its_own_facility_s_patients(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    mine = await named(w.gp, "Aigerim Nurlanovna")
    other_gp = await user(w.admin, "gp", facility_id=await facility(w.admin))
    theirs = await named(other_gp, "Aigerim Serikovna", born=date(1990, 7, 7), sex="male")
    assert await found(w.gp, "aigerim") == [mine]
    assert await found(other_gp, "AIGERIM") == [theirs]
    # Not by IIN either, nor after the GP booked nothing for them.
    _, their_record = await other_gp.get(f"/patients/{theirs}")
    assert await found(w.gp, their_record["iin"]) == []
    assert await found(w.gp, their_record["iin"][:6]) == []


async def test_an_empty_search_shows_a_gp_nothing(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    await named(w.gp, "Dana Omarova")
    for params in ({}, {"q": ""}, {"q": "   "}):
        status, page = await w.gp.get("/patients", **params)
        assert status == 200 and page == {"items": [], "next": None}, (params, page)
    # An administrator keeps the listing of the register.
    status, page = await w.admin.get("/patients")
    assert status == 200 and len(page["items"]) == 2


async def test_search_by_cyrillic_name_in_any_case_and_by_iin_prefix(
    client: Any, database: Database
) -> None:
    w = await world(client, database.engine)
    aigul = await named(w.gp, "АЙГҮЛ  Серікқызы Әбдіқадырова")
    petrov = await named(w.gp, "Пётр Ёлкин", born=date(1960, 2, 1), sex="male")
    assert await found(w.gp, "айгүл") == [aigul]
    assert await found(w.gp, "СЕРІКҚЫЗЫ") == [aigul]
    assert await found(w.gp, "айгүл серікқызы") == [aigul]
    assert await found(w.gp, "ёлкин") == [petrov]
    assert await found(w.gp, "ПЁТР") == [petrov]
    assert await found(w.gp, "100%") == []
    _, record = await w.gp.get(f"/patients/{petrov}")
    assert await found(w.gp, record["iin"][:4]) == [petrov]
    assert await found(w.gp, record["iin"]) == [petrov]


async def test_search_results_page_in_name_order(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    names = ["Иванова Бота", "иванов Алмас", "ИВАНОВ Ерлан", "Иванова Гүлнар", "Иванов Данияр"]
    ids = {await named(w.gp, n, born=date(1970 + i, 3, 3)): n for i, n in enumerate(names)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        status, page = await w.gp.get("/patients", q="Иванов", **params)
        assert status == 200, page
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 5 and set(seen) == set(ids)
    assert [ids[i].casefold() for i in seen] == sorted(n.casefold() for n in names)
    status, body = await w.gp.get("/patients", q="Иванов", cursor="garbage!!")
    assert status == 422 and "cursor" in body["fields"]


async def test_registration_errors_carry_codes(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    _, record = await w.gp.get(f"/patients/{w.patient_id}")
    status, body = await w.gp.post(
        "/patients",
        {
            "iin": record["iin"],
            "full_name": "Someone",
            "birth_date": record["birth_date"],
            "sex": record["sex"],
        },
    )
    assert status == 409 and body["code"] == "patient_exists"
    assert body["field_codes"] == {"iin": "iin_taken"}
    status, body = await w.gp.post(
        "/patients",
        {"iin": record["iin"], "full_name": "X", "birth_date": "1985-04-13", "sex": "female"},
    )
    assert status == 422 and body["field_codes"] == {"birth_date": "iin_birth_date"}
