"""The benchmark's statement counter (TELECONSULT_COUNT_STATEMENTS=1): every answer says how
many SQL statements its request sent; without the setting nothing is added."""

from __future__ import annotations

from typing import Any

from teleconsult.app import create_app
from teleconsult.cli.statements import HEADER, count_statements
from teleconsult.clock import FakeClock
from teleconsult.config import Settings

from ..conftest import Database
from ..factories import bootstrap_admin


async def test_each_answer_counts_its_own_statements(
    aiohttp_client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    app = create_app(settings, clock=clock, engine=database.engine)
    count_statements(app)
    client = await aiohttp_client(app)
    admin = await bootstrap_admin(database.engine, client)
    me = await client.get("/api/v1/me", headers=admin.headers())
    assert me.status == 200
    # The session's lookup at least; the count is this request's alone, every time.
    first = int(me.headers[HEADER])
    assert 1 <= first <= 5
    again = await client.get("/api/v1/me", headers=admin.headers())
    assert int(again.headers[HEADER]) == first
    facilities = await client.get("/api/v1/facilities", headers=admin.headers())
    assert int(facilities.headers[HEADER]) >= 1


async def test_without_the_setting_no_count_is_added(client: Any) -> None:
    answer = await client.get("/api/v1/codes")
    assert HEADER not in answer.headers
