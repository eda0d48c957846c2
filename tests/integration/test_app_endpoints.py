"""The app's own endpoints: ``/metrics`` and ``GET /api/v1/codes``."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from teleconsult.app import create_app
from teleconsult.appkeys import ENGINE
from teleconsult.codes import CARE_LEVELS, REGIONS, SPECIALTIES
from teleconsult.config import Settings

from ..conftest import Database, production_settings
from ..factories import bootstrap_admin


async def scrape(client: Any) -> dict[str, float]:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(await resp.text())
        for sample in family.samples
    }


async def test_metrics_show_uptime_and_the_connections_in_use(client: Any) -> None:
    first = await scrape(client)
    assert first["teleconsult_db_pool_checked_out"] == 0
    await asyncio.sleep(0.05)
    # A connection taken from the app's pool shows while it is held.
    async with client.app[ENGINE].connect():
        second = await scrape(client)
    assert second["teleconsult_db_pool_checked_out"] == 1
    assert (await scrape(client))["teleconsult_db_pool_checked_out"] == 0
    assert first["teleconsult_uptime_seconds"] > 0
    assert second["teleconsult_uptime_seconds"] >= first["teleconsult_uptime_seconds"] + 0.05


async def test_each_app_has_its_own_metrics(
    client: Any, aiohttp_client: Any, settings: Settings, database: Database
) -> None:
    # A second app in the same process registers the same names without a clash, and
    # counts its own connections, not the first app's.
    other = await aiohttp_client(create_app(settings, engine=None))
    async with client.app[ENGINE].connect():
        assert (await scrape(other))["teleconsult_db_pool_checked_out"] == 0
        assert (await scrape(client))["teleconsult_db_pool_checked_out"] == 1


async def test_codes_come_from_codes_py_without_signing_in(client: Any) -> None:
    resp = await client.get("/api/v1/codes")
    assert resp.status == 200
    body = await resp.json()
    # Each name in English ("name") and in every language ("names").
    english = {
        table: [{"code": item["code"], "name": item["name"]} for item in items]
        for table, items in body.items()
    }
    assert english == {
        "specialties": [{"code": c, "name": n} for c, n in SPECIALTIES.items()],
        "regions": [{"code": c, "name": n} for c, n in REGIONS.items()],
        "care_levels": [{"code": str(c), "name": n} for c, n in CARE_LEVELS.items()],
    }
    assert {
        "code": "primary",
        "name": "Primary",
        "names": {"en": "Primary", "kk": "Алғашқы", "ru": "Первичный"},
    } in body["care_levels"]
    doc = await (await client.get("/api/v1/openapi.json")).json()
    schema = doc["paths"]["/api/v1/codes"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert schema["$ref"].endswith("/CodesOut")


def samples(text: str) -> list[Any]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


async def test_metrics_count_requests_by_route_and_open_websockets(
    client: Any, database: Database
) -> None:
    admin = await bootstrap_admin(database.engine, client)
    for _ in range(3):
        status, _ = await admin.get(f"/patients/{uuid.uuid4()}")
        assert status == 404
    ws = await client.ws_connect("/api/v1/events", headers=admin.headers())
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    during = samples(await (await client.get("/metrics")).text())
    await ws.close()
    counted = {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for s in during
        if s.name == "teleconsult_requests_total"
    }
    # By the route's template: an id in the path is no label of its own.
    assert counted[("/api/v1/patients/{id}", "GET", "404")] == 3
    timed = {
        s.labels["route"]: s.value for s in during if s.name == "teleconsult_request_seconds_count"
    }
    assert timed["/api/v1/patients/{id}"] == 3
    open_during = {
        s.labels["kind"]: s.value for s in during if s.name == "teleconsult_websockets_open"
    }
    assert open_during["events"] == 1
    for _ in range(50):
        after = samples(await (await client.get("/metrics")).text())
        left = [s.value for s in after if s.name == "teleconsult_websockets_open"]
        if left == [0]:
            break
        await asyncio.sleep(0.02)
    assert left == [0]


async def test_production_serves_metrics_to_allowed_addresses_or_the_token(
    aiohttp_client: Any, database: Database, tmp_path: Any
) -> None:
    production = production_settings(
        database.url, tmp_path / "data", metrics_allow=["10.0.0.0/8"], metrics_token="m" * 32
    )
    client = await aiohttp_client(create_app(production, engine=database.engine))
    assert (await client.get("/metrics")).status == 403
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 403
    right = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
    assert right.status == 200 and "teleconsult_uptime_seconds" in await right.text()
