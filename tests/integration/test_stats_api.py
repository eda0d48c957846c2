from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from teleconsult.clock import FakeClock
from teleconsult.stats.cells import reporting_day

from ..conftest import Database
from ..factories import availability, book_video_calls, world


async def _video_calls(w: Any, clock: FakeClock, count: int) -> list[str]:
    start = clock.now().replace(microsecond=0) + timedelta(hours=2)
    await availability(w.specialist, start, hours=count / 3)
    return await book_video_calls(w, count)


async def test_stats_follow_the_lifecycle_and_suppress_small_cells(
    client: Any, database: Database, clock: FakeClock
) -> None:
    # Half an hour before midnight in the reporting time zone (UTC+5): the calls below end on
    # the next day there, and still count on the day they were requested.
    clock.set(clock.now().replace(hour=18, minute=30, second=0, microsecond=0))
    w = await world(client, database.engine)
    ids = await _video_calls(w, clock, 7)
    requested_on = reporting_day(clock.now()).isoformat()
    # The slots start 2 to 4 hours from now; every call starts once the last slot is due.
    clock.advance(hours=4)
    for cid in ids[:5]:
        status, body = await w.specialist.post(f"/consultations/{cid}/start")
        assert status == 200, body
    clock.advance(minutes=18)
    for cid in ids[:5]:
        status, body = await w.specialist.post(
            f"/consultations/{cid}/complete", {"conclusion": "Reviewed."}
        )
        assert status == 200, body
    status, body = await w.gp.post(f"/consultations/{ids[5]}/cancel")
    assert status == 200, body

    status, report = await w.admin.get("/stats/specialties")
    assert status == 200, report
    [row] = report["items"]
    assert row["specialty"] == "cardiology"
    assert row["requested"] == 7
    assert row["completed"] == 5
    assert row["cancelled"] == "<5"
    assert row["no_show"] == 0
    assert abs(row["wait_median_s"] - 4 * 3600) <= 4 * 3600 * 0.02
    assert abs(row["wait_p90_s"] - 4 * 3600) <= 4 * 3600 * 0.02
    assert abs(row["duration_median_s"] - 18 * 60) <= 18 * 60 * 0.02 + 1
    assert row["turnaround_median_s"] is None
    assert row["answered_within_target"] == 1.0
    assert report["percentile_error"] == {"relative": 0.02, "absolute_seconds": 1.0}
    assert report["to_date"] == reporting_day(clock.now()).isoformat() > requested_on
    assert "patient" not in str(report).lower()

    status, by_day = await w.admin.get(
        "/stats/specialties", granularity="day", region="karaganda", facility=w.clinic
    )
    assert status == 200, by_day
    assert [r["requested"] for r in by_day["items"]] == [7]
    assert by_day["items"][0]["period"] == requested_on
    _, elsewhere = await w.admin.get("/stats/specialties", region="astana")
    assert elsewhere["items"] == []

    resp = await client.get(
        "/api/v1/stats/specialties.csv", headers=w.admin.headers(), params={"granularity": "month"}
    )
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [(r["specialty"], r["requested"], r["cancelled"]) for r in rows] == [
        ("cardiology", "7", "<5")
    ]


async def test_only_administrators_see_statistics(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    for caller in (w.gp, w.specialist):
        status, body = await caller.get("/stats/specialties")
        assert status == 403, body
        resp = await client.get("/api/v1/stats/specialties.csv", headers=caller.headers())
        assert resp.status == 403
    client.session.cookie_jar.clear()
    resp = await client.get("/api/v1/stats/specialties")
    assert resp.status == 401


async def test_bad_filters_are_422_naming_the_field(client: Any, database: Database) -> None:
    w = await world(client, database.engine)
    cases = [
        ({"region": "atlantis"}, "region"),
        ({"facility": "nope"}, "facility"),
        ({"granularity": "hour"}, "granularity"),
        ({"from": "2025-02-30"}, "from"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "to"),
        ({"from": "2020-01-01", "to": "2025-01-01", "granularity": "day"}, "granularity"),
    ]
    for params, field in cases:
        status, body = await w.admin.get("/stats/specialties", **params)
        assert status == 422, (params, body)
        assert field in body["fields"], (params, body)
