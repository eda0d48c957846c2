"""Structured logs: JSON lines with a request id and the route, never a secret or patient data."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request

from teleconsult.app import create_app
from teleconsult.clock import FakeClock
from teleconsult.logs import AccessLogger, JsonFormatter

from ..callkit import booked_call
from ..conftest import Database
from ..factories import PASSWORD


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_access_log_lines_carry_the_request_id_and_route_and_no_secrets(
    aiohttp_client: Any,
    database: Database,
    settings: Any,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The server as `teleconsult serve` runs it: its access log through AccessLogger.
    server = TestServer(create_app(settings, clock=clock, engine=database.engine))
    await server.start_server(
        access_log_class=AccessLogger, access_log=logging.getLogger("aiohttp.access")
    )
    client = await aiohttp_client(server)
    caplog.set_level(logging.INFO)
    w, cid = await booked_call(client, database.engine, clock.now())
    status, record = await w.gp.get(f"/patients/{w.patient_id}")
    assert status == 200, record
    iin = record["iin"]
    status, found = await w.gp.get("/patients", iin=iin)
    assert status == 200 and found["items"], found
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200, call
    ticket = call["ws_url"].split("ticket=", 1)[1]
    async with client.session.ws_connect(call["ws_url"]) as ws:
        await ws.close()
    resp = await client.get("/api/v1/me", headers={"X-Request-Id": "trace-0123456789"})
    assert resp.headers["X-Request-Id"] == "trace-0123456789"
    wrong = await client.post("/api/v1/auth/login", json={"username": "root", "password": "x" * 20})
    assert wrong.status == 401 and len(wrong.headers["X-Request-Id"]) == 32

    # The signaling request's line, as the server writes it when the call ends.
    signal = make_mocked_request("GET", f"/api/v1/consultations/{cid}/signal?ticket={ticket}")
    signal._match_info = await server.app.router.resolve(signal)
    AccessLogger(logging.getLogger("aiohttp.access"), "").log(signal, web.Response(status=101), 0.5)
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    access = [json.loads(line) for line in lines if '"logger": "aiohttp.access"' in line]
    routes = {a["route"] for a in access}
    assert "/api/v1/consultations/{id}/signal" in routes
    assert "/api/v1/consultations/{id}/call" in routes
    assert any(a["request_id"] == "trace-0123456789" for a in access)
    assert all({"request_id", "method", "route", "status", "ms"} <= set(a) for a in access)
    everything = "\n".join(lines)
    for secret in (ticket, PASSWORD, "x" * 20, cid, w.patient_id, "Test Patient", iin):
        assert secret not in everything, secret
