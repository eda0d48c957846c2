"""Input at the edges is a clear 4xx naming the field, never a 500, on both engines: times
and dates at the ends of what a calendar holds, and cursors a client made up."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ..conftest import Database
from ..factories import World, world

EDGE_TIMES = [
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-12:00",  # after year 9999 in UTC
]


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
async def w(client: Any, database: Database) -> World:
    return await world(client, database.engine)


@pytest.mark.parametrize("when", EDGE_TIMES)
async def test_times_at_the_edges_of_the_calendar_are_a_422(w: World, when: str) -> None:
    queries = [
        (w.gp, "/slots", {"specialty": "cardiology", "from": when}, "from"),
        (w.gp, "/slots", {"specialty": "cardiology", "to": when}, "to"),
        (w.gp, "/consultations", {"from": when}, "from"),
        (w.gp, "/consultations", {"to": when}, "to"),
        (w.admin, "/stats/specialties", {"from": when[:10]}, "from"),
        (w.admin, "/stats/specialties", {"to": when[:10]}, "to"),
    ]
    for api, path, params, field in queries:
        status, body = await api.get(path, **params)
        assert status == 422, (path, params, body)
        assert field in body["fields"], body
    bodies = [
        (
            w.gp,
            "/consultations",
            {
                "patient_id": w.patient_id,
                "specialty": "cardiology",
                "reason": "x",
                "specialist_id": w.specialist.id,
                "starts_at": when,
            },
            "starts_at",
        ),
        (
            w.specialist,
            f"/specialists/{w.specialist.id}/availability",
            {"starts_at": when, "ends_at": when, "slot_minutes": 20},
            "starts_at",
        ),
    ]
    for api, path, payload, field in bodies:
        status, body = await api.post(path, payload)
        assert status == 422, (path, body)
        assert field in body["fields"], body


@pytest.mark.parametrize(
    "values",
    [[10**30], [True], ["2020-01-01T00:00:00"], [1e308], ["x", 10**30], [None, None], [{}]],
)
async def test_made_up_cursors_are_a_422(w: World, values: list[Any]) -> None:
    cursor = _cursor(values)
    for api, path in [
        (w.gp, "/consultations"),
        (w.admin, "/facilities"),
        (w.gp, "/slots"),
        (w.admin, "/break-glass"),
        (w.gp, "/patients"),
    ]:
        status, body = await api.get(path, cursor=cursor)
        assert status == 422, (path, values, body)
        assert "cursor" in body["fields"], body
