"""Availability: weekly hours in the specialist's time zone, one-off windows and leave; a
window or weekly hours with a booking cannot be removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import Api, availability, login, world

# A Monday, 08:00 in Almaty (UTC+5).
MONDAY = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)
ZONE = "Asia/Almaty"


async def delete(api: Api, path: str) -> tuple[int, Any]:
    resp = await api.client.delete(f"/api/v1{path}", headers=api.headers())
    return resp.status, await resp.json()


async def slot_starts(api: Api, **params: Any) -> list[datetime]:
    status, page = await api.get("/slots", specialist_id=api.id, limit=500, **params)
    assert status == 200, page
    return [datetime.fromisoformat(s["starts_at"]) for s in page["items"]]


async def test_weekly_hours_publish_the_coming_weeks_in_local_time(
    client: Any, database: Database, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    w = await world(client, database.engine)
    spec = w.specialist
    status, rule = await spec.post(
        f"/specialists/{spec.id}/weekly-hours",
        {"weekday": 1, "starts": "09:00", "ends": "10:00", "time_zone": ZONE, "slot_minutes": 30},
    )
    assert status == 201, rule
    # Tuesdays for eight weeks (and one more Tuesday within 56 days), two slots each.
    assert rule["slots"] == 16
    assert (rule["starts"], rule["ends"], rule["weekday"]) == ("09:00", "10:00", 1)
    starts = await slot_starts(spec)
    assert starts[:2] == [
        datetime(2030, 3, 5, 4, 0, tzinfo=UTC),
        datetime(2030, 3, 5, 4, 30, tzinfo=UTC),
    ]
    assert all(s.weekday() == 1 and s.hour in (4,) for s in starts)

    status, overview = await spec.get(f"/specialists/{spec.id}/availability")
    assert status == 200, overview
    assert [r["id"] for r in overview["weekly"]] == [rule["id"]]
    assert overview["weekly"][0]["slots"] == 16
    assert len(overview["windows"]) == 8

    # Leave on the second Tuesday removes its slots; cancelling the leave brings them back.
    status, leave = await spec.post(
        f"/specialists/{spec.id}/leave",
        {"first_day": "2030-03-11", "last_day": "2030-03-13", "time_zone": ZONE},
    )
    assert status == 201, leave
    assert leave["slots_removed"] == 2
    starts = await slot_starts(spec)
    assert datetime(2030, 3, 12, 4, 0, tzinfo=UTC) not in starts
    assert len(starts) == 14
    _, overview = await spec.get(f"/specialists/{spec.id}/availability")
    assert [item["first_day"] for item in overview["leave"]] == ["2030-03-11"]

    # Weekly hours added during leave skip the leave's days.
    status, wednesday = await spec.post(
        f"/specialists/{spec.id}/weekly-hours",
        {"weekday": 2, "starts": "14:00", "ends": "15:00", "time_zone": ZONE, "slot_minutes": 60},
    )
    assert status == 201, wednesday
    assert datetime(2030, 3, 13, 9, 0, tzinfo=UTC) not in await slot_starts(spec)
    assert datetime(2030, 3, 6, 9, 0, tzinfo=UTC) in await slot_starts(spec)

    status, _ = await delete(spec, f"/specialists/{spec.id}/leave/{leave['id']}")
    assert status == 200
    starts = await slot_starts(spec)
    assert datetime(2030, 3, 12, 4, 0, tzinfo=UTC) in starts
    assert datetime(2030, 3, 13, 9, 0, tzinfo=UTC) in starts

    # Removing weekly hours removes their coming slots.
    status, removed = await delete(spec, f"/specialists/{spec.id}/weekly-hours/{rule['id']}")
    assert status == 200, removed
    assert removed["slots_removed"] == 16
    assert all(s.weekday() == 2 for s in await slot_starts(spec))


async def test_a_booked_window_cannot_be_removed_a_free_one_can(
    client: Any, database: Database, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    w = await world(client, database.engine)
    spec = w.specialist
    booked_window = await availability(spec, MONDAY + timedelta(hours=2), hours=1)
    free_window = await availability(spec, MONDAY + timedelta(days=1), hours=1)
    status, c = await w.gp.post(
        "/consultations",
        {"patient_id": w.patient_id, "specialty": "cardiology", "reason": "Palpitations"},
    )
    assert status == 201, c

    status, body = await delete(spec, f"/specialists/{spec.id}/availability/{booked_window['id']}")
    assert status == 409 and body["code"] == "window_has_bookings"
    status, body = await delete(spec, f"/specialists/{spec.id}/availability/{free_window['id']}")
    assert status == 200 and body["slots_removed"] == 3
    # Leave over a booked consultation is refused too.
    status, body = await spec.post(
        f"/specialists/{spec.id}/leave",
        {"first_day": "2030-03-04", "last_day": "2030-03-04", "time_zone": ZONE},
    )
    assert status == 409 and body["code"] == "leave_has_bookings"

    # Once the consultation is cancelled, the window can go.
    status, _ = await w.gp.post(f"/consultations/{c['id']}/cancel")
    assert status == 200
    status, body = await delete(spec, f"/specialists/{spec.id}/availability/{booked_window['id']}")
    assert status == 200, body
    status, again = await w.gp.get(f"/consultations/{c['id']}")
    assert status == 200 and again["status"] == "cancelled" and again["starts_at"]

    # Someone else's window is not there for another specialist.
    assert (await delete(w.gp, f"/specialists/{spec.id}/availability/{free_window['id']}"))[
        0
    ] == 403


async def test_validation_codes_name_the_field(
    client: Any, database: Database, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    w = await world(client, database.engine)
    spec = w.specialist

    async def refused(path: str, body: dict[str, Any]) -> dict[str, str]:
        status, answer = await spec.post(f"/specialists/{spec.id}/{path}", body)
        assert status == 422, answer
        return dict(answer["field_codes"])

    week = {"weekday": 0, "time_zone": ZONE}
    assert await refused("weekly-hours", {**week, "starts": "10:00", "ends": "09:00"}) == {
        "ends": "ends_before_starts"
    }
    assert await refused(
        "weekly-hours", {**week, "starts": "09:00", "ends": "09:30", "slot_minutes": 60}
    ) == {"slot_minutes": "slot_longer_than_window"}
    assert await refused(
        "weekly-hours", {"weekday": 0, "starts": "09:00", "ends": "10:00", "time_zone": "Mars/X"}
    ) == {"time_zone": "time_zone_unknown"}
    leave = {"time_zone": ZONE}
    assert await refused(
        "leave", {**leave, "first_day": "2030-03-10", "last_day": "2030-03-09"}
    ) == {"last_day": "ends_before_starts"}
    assert await refused(
        "leave", {**leave, "first_day": "2030-03-10", "last_day": "2031-06-01"}
    ) == {"last_day": "leave_too_long"}
    assert await refused(
        "leave", {**leave, "first_day": "2030-02-01", "last_day": "2030-02-03"}
    ) == {"last_day": "in_the_past"}
    one_off = {"starts_at": (MONDAY - timedelta(hours=3)).isoformat()}
    assert await refused(
        "availability", {**one_off, "ends_at": (MONDAY - timedelta(hours=2)).isoformat()}
    ) == {"ends_at": "in_the_past"}
    assert await refused(
        "availability", {**one_off, "ends_at": (MONDAY - timedelta(hours=4)).isoformat()}
    ) == {"ends_at": "ends_before_starts"}
    assert await refused(
        "availability", {**one_off, "ends_at": (MONDAY + timedelta(hours=30)).isoformat()}
    ) == {"ends_at": "window_too_long"}
    # A window on leave is refused.
    status, _ = await spec.post(
        f"/specialists/{spec.id}/leave",
        {"first_day": "2030-03-05", "last_day": "2030-03-05", "time_zone": ZONE},
    )
    assert status == 201
    start = datetime(2030, 3, 5, 5, 0, tzinfo=UTC)
    assert await refused(
        "availability",
        {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()},
    ) == {"starts_at": "on_leave"}


async def test_weekly_hours_roll_on_and_a_removed_day_stays_removed(
    client: Any, database: Database, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    w = await world(client, database.engine)
    spec = w.specialist
    status, rule = await spec.post(
        f"/specialists/{spec.id}/weekly-hours",
        {"weekday": 1, "starts": "09:00", "ends": "10:00", "time_zone": ZONE, "slot_minutes": 60},
    )
    assert status == 201 and rule["slots"] == 8, rule
    _, overview = await spec.get(f"/specialists/{spec.id}/availability")
    third = overview["windows"][2]  # Tuesday 19 March
    status, _ = await delete(spec, f"/specialists/{spec.id}/availability/{third['id']}")
    assert status == 200
    # Two weeks on, looking at availability publishes two more Tuesdays, not the removed one.
    clock.set(MONDAY + timedelta(days=14))
    spec = await login(client, spec.user["username"])
    status, overview = await spec.get(f"/specialists/{spec.id}/availability")
    assert status == 200, overview
    starts = await slot_starts(spec)
    # 26 March … 7 May: the 19th stays removed, 30 April and 7 May are new.
    assert starts[0] == datetime(2030, 3, 26, 4, 0, tzinfo=UTC)
    assert starts[-1] == datetime(2030, 5, 7, 4, 0, tzinfo=UTC)
    assert len(starts) == 7
    _, again = await spec.get(f"/specialists/{spec.id}/availability")
    assert len(again["windows"]) == len(overview["windows"])
