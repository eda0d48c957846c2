"""Statistics by region and specialty: the region × specialty table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from teleconsult.clock import FakeClock

from ..conftest import Database
from ..factories import availability, book_video_calls, world


async def test_region_by_specialty_table(client: Any, database: Database, clock: FakeClock) -> None:
    w = await world(client, database.engine)  # the clinic is in Karaganda region
    start = clock.now().replace(microsecond=0) + timedelta(hours=2)
    await availability(w.specialist, start, hours=3)
    ids = await book_video_calls(w, 6)
    clock.advance(hours=6)
    for cid in ids[:5]:
        status, body = await w.specialist.post(f"/consultations/{cid}/start")
        assert status == 200, body
    clock.advance(minutes=20)
    for cid in ids[:5]:
        assert (
            await w.specialist.post(f"/consultations/{cid}/complete", {"conclusion": "Reviewed."})
        )[0] == 200

    status, report = await w.admin.get("/stats/regions")
    assert status == 200, report
    [row] = report["items"]
    assert (row["region"], row["specialty"]) == ("karaganda", "cardiology")
    assert row["requested"] == 6
    assert row["completed"] == 5
    assert row["no_show"] == 0  # a zero is shown as it is
    assert row["cancelled"] == 0
    assert isinstance(row["wait_median_s"], float)
    assert report["suppressed_marker"] == "<5"
    assert "patient" not in str(report).lower()

    before = (clock.now() - timedelta(days=400)).date().isoformat()
    _, empty = await w.admin.get("/stats/regions", **{"from": before, "to": before})
    assert empty["items"] == []
    status, body = await w.admin.get("/stats/regions", **{"from": "2026-05-02", "to": "2026-05-01"})
    assert status == 422 and body["field_codes"]["to"] == "range_reversed", body


async def test_small_counts_are_suppressed_and_only_admins_read(
    client: Any, database: Database, clock: FakeClock
) -> None:
    w = await world(client, database.engine)
    start = clock.now().replace(microsecond=0) + timedelta(hours=2)
    await availability(w.specialist, start, hours=1)
    await book_video_calls(w, 2)
    _, report = await w.admin.get("/stats/regions")
    [row] = report["items"]
    assert row["requested"] == "<5"
    assert row["wait_median_s"] is None
    for caller in (w.gp, w.specialist):
        assert (await caller.get("/stats/regions"))[0] == 403
