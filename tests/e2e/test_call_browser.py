"""Two headless Chromium pages join one call and each plays the other's video."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from teleconsult.clock import FakeClock
from teleconsult.config import Settings

from ..callkit import booked_call, loopback_only
from ..conftest import IN_CI, Database
from ..factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(90)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # On loopback the pages must see each other's real host candidates, not mDNS names.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # Stay off the network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    if IN_CI:
        pytest.fail("Chromium must be installed in CI: the browser tests may not be skipped there")
    pytest.skip("browser tests skipped: Chromium is not installed")


@pytest.fixture
def settings(database: Database, tmp_path: Any) -> Settings:
    return Settings(
        env="test",
        database_url=database.url,
        data_dir=tmp_path / "data",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        stun_urls=[],
    )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("mode", ["p2p", "relay"])
async def test_two_browsers_see_each_other(
    client: Any, database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    executable = chromium_path()
    from playwright.async_api import async_playwright

    # The gateway (relay mode) lives in this process: keep its candidates on loopback too.
    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    if mode == "relay":
        status, options = await w.gp.post(f"/consultations/{cid}/call/options", {"mode": "relay"})
        assert status == 200 and options["mode"] == "relay", options
    base = str(client.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            pages = []
            for who in (w.gp, w.specialist):
                context = await browser.new_context(base_url=base)
                login = await context.request.post(
                    "/api/v1/auth/login",
                    data={"username": who.user["username"], "password": PASSWORD},
                )
                assert login.ok, await login.text()
                page = await context.new_page()
                await page.goto(f"/call/{cid}")
                pages.append(page)
            for page in pages:
                # Polled from here: the page's Content-Security-Policy forbids the string
                # evaluation that wait_for_function relies on.
                for _ in range(225):  # 45 s
                    if await page.evaluate(
                        "() => document.getElementById('remote').videoWidth > 0"
                    ):
                        break
                    await asyncio.sleep(0.2)
                else:
                    pytest.fail("the remote video never started playing")
                playing = await page.evaluate(
                    "() => { const v = document.getElementById('remote');"
                    " return !v.paused && v.readyState >= 2; }"
                )
                assert playing
                # The token stays in the HttpOnly cookie, out of the page's reach.
                assert "tc_session" not in await page.evaluate("document.cookie")
        finally:
            await browser.close()
