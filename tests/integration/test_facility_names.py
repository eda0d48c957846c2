"""Facility names in three languages, edited by the administrator, served from the row."""

from __future__ import annotations

from typing import Any

from ..conftest import Database
from ..factories import world


async def _patch(api: Any, path: str, body: Any, language: str = "en") -> tuple[int, Any]:
    resp = await api.client.patch(
        f"/api/v1{path}", json=body, headers=api.headers({"Accept-Language": language})
    )
    return resp.status, await resp.json()


async def _list(api: Any, language: str) -> list[dict[str, Any]]:
    resp = await api.client.get(
        "/api/v1/facilities", headers=api.headers({"Accept-Language": language})
    )
    assert resp.status == 200
    return list((await resp.json())["items"])


async def test_names_in_three_languages_and_region(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    status, body = await _patch(
        w.admin,
        f"/facilities/{w.clinic}",
        {
            "name": "Karkaraly District Hospital",
            "name_kk": "Қарқаралы аудандық ауруханасы",
            "name_ru": "Каркаралинская районная больница",
            "region": "abai",
        },
    )
    assert status == 200, body
    assert body["names"] == {
        "en": "Karkaraly District Hospital",
        "kk": "Қарқаралы аудандық ауруханасы",
        "ru": "Каркаралинская районная больница",
    }
    assert body["region"] == "abai"
    by_id = {f["id"]: f for f in await _list(w.gp, "ru-RU,ru;q=0.9")}
    assert by_id[w.clinic]["name"] == "Каркаралинская районная больница"
    by_id = {f["id"]: f for f in await _list(w.gp, "kk")}
    assert by_id[w.clinic]["name"] == "Қарқаралы аудандық ауруханасы"
    by_id = {f["id"]: f for f in await _list(w.gp, "en")}
    assert by_id[w.clinic]["name"] == "Karkaraly District Hospital"
    # A missing translation falls back to the English name.
    status, body = await _patch(w.admin, f"/facilities/{w.hospital}", {"name_kk": None})
    assert status == 200, body
    assert body["names"]["kk"] == body["names"]["en"]

    _, users = await w.admin.get("/users", role="gp")
    assert users["items"][0]["facility"] == "Karkaraly District Hospital"


async def test_only_administrators_edit_and_names_are_checked(
    client: Any, database: Database
) -> None:
    w = await world(client, database.engine)
    status, body = await _patch(w.gp, f"/facilities/{w.clinic}", {"name": "Mine"})
    assert status == 403, body
    status, body = await _patch(w.admin, f"/facilities/{w.clinic}", {"name": ""})
    assert status == 422 and "name" in body["fields"], body
    status, body = await _patch(w.admin, f"/facilities/{w.clinic}", {"region": "atlantis"})
    assert status == 422 and "region" in body["fields"], body
    status, body = await _patch(
        w.admin, "/facilities/00000000-0000-0000-0000-000000000000", {"name": "X"}
    )
    assert status == 404 and body["code"] == "facility_not_found", body


async def test_people_are_named_with_their_facility_in_the_readers_language(
    client: Any, database: Database
) -> None:
    w = await world(client, database.engine)
    status, body = await _patch(
        w.admin,
        f"/facilities/{w.clinic}",
        {"name": "Shet Clinic", "name_kk": "Шет емханасы", "name_ru": "Шетская поликлиника"},
    )
    assert status == 200, body
    for language, expected in (("ru", "Шетская поликлиника"), ("kk", "Шет емханасы")):
        resp = await client.get(
            "/api/v1/people",
            params={"ids": w.gp.id},
            headers=w.specialist.headers({"Accept-Language": language}),
        )
        assert resp.status == 200
        [gp] = (await resp.json())["items"]
        assert gp["facility"] == expected
    _, people = await w.specialist.get("/people", ids=w.gp.id)
    assert people["items"][0]["facility"] == "Shet Clinic"
