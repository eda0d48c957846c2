"""A call whose media goes only through TURN: two browsers with iceTransportPolicy "relay",
a coturn started here on a loopback port with the TURN REST API (use-auth-secret) and the
server's TELECONSULT_TURN_SECRET, the short-lived credentials the server hands out."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from teleconsult.clock import FakeClock
from teleconsult.config import Settings

from ..callkit import booked_call
from ..conftest import IN_CI, Database
from .test_call_browser import CHROMIUM_ARGS, chromium_path, open_call, remote_videos_play

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

SECRET = "turn-test-secret-for-the-browser-test"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def turnserver(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """coturn on 127.0.0.1:<port>, its log file; stopped after the test."""
    binary = shutil.which("turnserver")
    if binary is None:
        if IN_CI:
            pytest.fail("coturn must be installed in CI (.ci/run installs it)")
        pytest.skip("TURN test skipped: coturn (turnserver) is not installed")
    port = free_udp_port()
    log = tmp_path / "turn.log"
    relay_low = 49152 + (port % 1000) * 10
    process = subprocess.Popen(
        [
            binary,
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            f"--min-port={relay_low}",
            f"--max-port={relay_low + 9}",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=teleconsult.test",
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            "--verbose",
            f"--userdb={tmp_path / 'turndb'}",
            f"--pidfile={tmp_path / 'turn.pid'}",
            f"--log-file={log}",
            "--simple-log",
            "--no-stdout-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_call_through_turn_only(
    client: Any,
    database: Database,
    clock: FakeClock,
    settings: Settings,
    turnserver: tuple[int, Path],
) -> None:
    executable = chromium_path()
    from playwright.async_api import async_playwright

    port, log = turnserver
    settings.turn_urls = [f"turn:127.0.0.1:{port}?transport=udp"]
    settings.turn_secret = SECRET
    settings.ice_transport_policy = "relay"
    # coturn checks the credentials' expiry against the real time.
    clock.set(datetime.now(UTC))
    w, cid = await booked_call(client, database.engine, clock.now())
    status, call = await w.gp.get(f"/consultations/{cid}/call")
    assert status == 200 and call["ice_transport_policy"] == "relay", call
    base = str(client.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            pages = [await open_call(browser, base, who, cid) for who in (w.gp, w.specialist)]
            for page in pages:
                await remote_videos_play(page, 1)
        finally:
            await browser.close()
    await asyncio.sleep(0.5)
    text = log.read_text(errors="replace")
    # Both browsers allocated a relay with the server's short-lived credentials.
    allocations = [line for line in text.splitlines() if "ALLOCATE" in line and "success" in line]
    assert len(allocations) >= 2, text[-3000:]
