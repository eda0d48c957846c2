"""The specialist's queue: today, upcoming and past, with the patient's age, sex and region;
completing needs a conclusion; consultations say when their call opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import availability, world

MONDAY = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)  # 08:00 in Almaty
ZONE = "Asia/Almaty"


async def test_queue_periods_with_patient_summary_and_conclusion(
    client: Any, database: Database, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    w = await world(client, database.engine)
    spec = w.specialist
    await availability(spec, MONDAY + timedelta(hours=1), hours=1)  # today 09:00 local
    await availability(spec, MONDAY + timedelta(days=2), hours=1)  # Wednesday
    booking = {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"}
    _, today_call = await w.gp.post("/consultations", booking)
    _, second = await w.gp.post("/consultations", booking)
    status, later = await w.gp.post(
        "/consultations",
        {
            **booking,
            "specialist_id": spec.id,
            "starts_at": (MONDAY + timedelta(days=2)).isoformat(),
        },
    )
    assert status == 201, later
    _, case = await w.gp.post("/consultations", {**booking, "mode": "async", "urgency": "urgent"})

    status, page = await spec.get("/queue", period="today", tz=ZONE)
    assert status == 200, page
    ids = [c["id"] for c in page["items"]]
    assert ids == [case["id"], today_call["id"], second["id"]]  # urgent first
    first = page["items"][1]
    assert first["patient"]["sex"] in ("male", "female")
    assert isinstance(first["patient"]["age"], int) and first["patient"]["age"] >= 0
    assert "full_name" not in first["patient"] and "iin" not in first["patient"]
    assert first["call_opens_at"] == (MONDAY + timedelta(minutes=45)).isoformat().replace(
        "+00:00", "Z"
    ) or datetime.fromisoformat(first["call_opens_at"]) == MONDAY + timedelta(minutes=45)
    assert page["items"][0]["call_opens_at"] is None

    # Paged: one at a time, no item twice.
    seen = []
    cursor = None
    while True:
        params = {"period": "today", "tz": ZONE, "limit": 1}
        if cursor:
            params["cursor"] = cursor
        _, p = await spec.get("/queue", **params)
        seen += [c["id"] for c in p["items"]]
        cursor = p["next"]
        if not cursor:
            break
    assert seen == ids

    _, upcoming = await spec.get("/queue", period="upcoming", tz=ZONE)
    assert [c["id"] for c in upcoming["items"]] == [later["id"]]

    # Completing needs a conclusion (422 on the field), then the past shows it.
    clock.set(MONDAY + timedelta(minutes=50))
    status, _ = await spec.post(f"/consultations/{today_call['id']}/start")
    assert status == 200
    status, body = await spec.post(f"/consultations/{today_call['id']}/complete")
    assert status == 422 and body["field_codes"] == {"conclusion": "missing"}
    status, body = await spec.post(
        f"/consultations/{today_call['id']}/complete", {"conclusion": "   "}
    )
    assert status == 422 and body["field_codes"] == {"conclusion": "missing"}
    status, done = await spec.post(
        f"/consultations/{today_call['id']}/complete", {"conclusion": "Benign ectopics."}
    )
    assert status == 200 and done["status"] == "completed"
    status, _ = await spec.post(f"/consultations/{second['id']}/cancel")
    assert status == 200
    _, past = await spec.get("/queue", period="past", tz=ZONE)
    assert [c["id"] for c in past["items"]] == [second["id"], today_call["id"]]  # newest first
    assert past["items"][1]["conclusion"] == "Benign ectopics."
    _, page1 = await spec.get("/queue", period="past", tz=ZONE, limit=1)
    _, page2 = await spec.get("/queue", period="past", tz=ZONE, limit=1, cursor=page1["next"])
    assert [c["id"] for c in page1["items"] + page2["items"]] == [second["id"], today_call["id"]]
    assert page2["next"] is None

    # Only specialists have a queue; a bad time zone is a field error.
    assert (await w.gp.get("/queue"))[0] == 403
    status, body = await spec.get("/queue", tz="Nowhere/Land")
    assert status == 422 and body["field_codes"] == {"tz": "time_zone_unknown"}


async def test_lifecycle_errors_carry_codes(
    client: Any, database: Database, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    w = await world(client, database.engine)
    await availability(w.specialist, MONDAY + timedelta(hours=2), hours=1)
    _, c = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"},
    )
    status, body = await w.specialist.post(f"/consultations/{c['id']}/start")
    assert status == 409 and body["code"] == "too_early_to_start"
    status, body = await w.specialist.post(f"/consultations/{c['id']}/no-show")
    assert status == 409 and body["code"] == "no_show_too_early"
    status, body = await w.specialist.post(
        f"/consultations/{c['id']}/complete", {"conclusion": "x"}
    )
    assert status == 409 and body["code"] == "illegal_transition"


async def test_icd10_search_in_three_languages(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    status, body = await w.specialist.get("/icd10", q="I10", lang="ru")
    assert status == 200, body
    assert body["items"][0] == {
        "code": "I10",
        "title": "Эссенциальная (первичная) гипертензия",
        "translated": True,
    }
    _, body = await w.specialist.get("/icd10", q="диабет", lang="ru")
    assert "E11.9" in [i["code"] for i in body["items"]]
    _, body = await w.specialist.get("/icd10", q="hypertension", lang="kk")
    assert body["items"][0]["code"] == "I10"
    assert body["items"][0]["title"].startswith("Эссенциалды")
    _, body = await w.specialist.get("/icd10", q="G43", lang="en")
    assert body["items"][0]["code"] == "G43"
    assert body["items"][0]["title"] == "Migraine"
    _, body = await w.specialist.get("/icd10", q="", lang="en")
    assert body["items"] == []
    # A code with no translation keeps its English title, marked as such.
    _, body = await w.specialist.get("/icd10", q="A00.0", lang="kk")
    assert body["items"][0]["translated"] is False


async def test_icd10_titles_name_a_passports_codes_in_the_readers_language(
    client: Any, database: Database
) -> None:
    w = await world(client, database.engine)
    status, body = await w.gp.get("/icd10/titles", codes="I10,E119,I10,Z99.99,A00.0", lang="kk")
    assert status == 200, body
    assert body["items"] == [
        {"code": "I10", "title": "Эссенциалды (біріншілік) гипертензия", "translated": True},
        {"code": "E11.9", "title": body["items"][1]["title"], "translated": True},
        {"code": "A00.0", "title": body["items"][2]["title"], "translated": False},
    ]
    assert body["items"][2]["title"].startswith("Cholera")
    _, body = await w.gp.get("/icd10/titles", codes="I10", lang="ru")
    assert body["items"][0]["title"] == "Эссенциальная (первичная) гипертензия"
    _, body = await w.gp.get("/icd10/titles", codes="I10", lang="en")
    assert body["items"][0] == {
        "code": "I10",
        "title": "Essential (primary) hypertension",
        "translated": True,
    }
    # Anything but codes separated by commas is refused, naming the field.
    status, body = await w.gp.get("/icd10/titles", codes="I10;DROP", lang="kk")
    assert status == 422, body
    assert body["field_codes"]["codes"] == "string_pattern_mismatch"
    status, body = await w.gp.get("/icd10/titles", codes="I10", lang="de")
    assert status == 422 and "lang" in body["fields"], body
