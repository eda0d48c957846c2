"""``teleconsult call``: a GP station without a browser joins through the real server."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Any

import pytest

from teleconsult.calls.client import CallClient
from teleconsult.clock import FakeClock

from ..callkit import booked_call, loopback_only, until
from ..conftest import Database
from ..factories import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_call_command_joins_and_counts_frames(
    client: Any, database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    server = str(client.make_url("")).rstrip("/")
    specialist = CallClient(server, cid, token=w.specialist.token)
    await specialist.join()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "teleconsult",
        "call",
        "--server",
        server,
        "--username",
        w.gp.user["username"],
        "--password",
        PASSWORD,
        "--test-pattern",
        "--duration",
        "4",
        "--loopback-only",
        cid,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 45)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
    try:
        assert process.returncode == 0, text
        assert "connection connected" in text, text
        counts = [int(n) for n in re.findall(r"received video=(\d+)", text)]
        assert counts and counts[-1] > 0, text
        await until(lambda: specialist.frames["video"] > 0, within=10)
    finally:
        await specialist.leave()
