"""The app's own endpoints: ``/metrics`` and ``GET /api/v1/codes``."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from teleconsult.app import create_app
from teleconsult.appkeys import ENGINE
from teleconsult.codes import CARE_LEVELS, REGIONS, SPECIALTIES
from teleconsult.config import Settings

from ..conftest import Database


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
    assert body == {
        "specialties": [{"code": c, "name": n} for c, n in SPECIALTIES.items()],
        "regions": [{"code": c, "name": n} for c, n in REGIONS.items()],
        "care_levels": [{"code": str(c), "name": n} for c, n in CARE_LEVELS.items()],
    }
    assert {"code": "primary", "name": "Primary"} in body["care_levels"]
    doc = await (await client.get("/api/v1/openapi.json")).json()
    schema = doc["paths"]["/api/v1/codes"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert schema["$ref"].endswith("/CodesOut")
