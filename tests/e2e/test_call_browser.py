"""Headless Chromium pages join one call and each plays the others' video."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from teleconsult.clock import FakeClock

from ..callkit import booked_call, loopback_only
from ..conftest import IN_CI, Database, app_on_redis
from ..factories import PASSWORD, user
from .browsing import Browsing, text
from .conftest import LOCALES

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(90)]

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


PLAYING = """() => [...document.querySelectorAll('#remotes .live video')]
    .filter((v) => v.videoWidth > 0 && !v.paused && v.readyState >= 2).length"""


async def remote_videos_play(page: Any, count: int) -> None:
    """Wait until ``count`` remote videos play (polled from here: the page's
    Content-Security-Policy forbids the string evaluation that wait_for_function uses)."""
    for _ in range(300):  # 60 s
        if await page.evaluate(PLAYING) >= count:
            break
        await asyncio.sleep(0.2)
    else:
        pytest.fail(f"{count} remote videos never played together")
    assert await page.evaluate(PLAYING) == count


async def open_call(
    browser: Any,
    base: str,
    who: Any,
    cid: str,
    *,
    language: str = "en",
    width: int = 1280,
    join: bool = True,
) -> Any:
    context = await browser.new_context(
        base_url=base, locale=LOCALES[language], viewport={"width": width, "height": 800}
    )
    login = await context.request.post(
        "/api/v1/auth/login", data={"username": who.user["username"], "password": PASSWORD}
    )
    assert login.ok, await login.text()
    page = await context.new_page()
    await page.goto(f"/call/{cid}")
    if join:
        # Past the device check.
        await call_state(page, "check")
        await page.locator("#join").click()
    return page


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
            pages = [await open_call(browser, base, who, cid) for who in (w.gp, w.specialist)]
            for page in pages:
                await remote_videos_play(page, 1)
                # The token stays in the HttpOnly cookie, out of the page's reach.
                assert "tc_session" not in await page.evaluate("document.cookie")
        finally:
            await browser.close()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("mode", ["p2p", "relay"])
async def test_gp_specialist_and_invited_patient_each_see_the_two_others(
    client: Any, database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Three in a call: peer to peer, a mesh (two connections a page); relayed, two slots
    on the one connection to the gateway."""
    executable = chromium_path()
    from playwright.async_api import async_playwright

    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    status, options = await w.gp.post(
        f"/consultations/{cid}/call/options", {"invite_patient": True, "mode": mode}
    )
    assert status == 200 and options["mode"] == mode, options
    base = str(client.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            pages = [
                await open_call(browser, base, who, cid) for who in (w.gp, w.specialist, patient)
            ]
            for page in pages:
                await remote_videos_play(page, 2)
            if mode == "relay":
                return
            captions = await pages[2].evaluate(
                "() => [...document.querySelectorAll('#remotes figcaption')]"
                ".map((c) => c.textContent).sort()"
            )
            # "<name>, <role>": each other participant by name and role.
            assert [c.rsplit(", ", 1)[-1] for c in captions] == ["GP", "Specialist"]
            # The patient hangs up: the others go back to one tile each.
            await pages[2].get_by_role("button", name="Leave").click()
            for page in pages[:2]:
                await remote_videos_play(page, 1)
        finally:
            await browser.close()


async def call_state(page: Any, wanted: str, within: float = 30) -> None:
    """Wait (polled: the page's policy forbids wait_for_function) for the page's call state."""
    for _ in range(int(within / 0.2)):
        if await page.evaluate("() => document.body.dataset.callState") == wanted:
            return
        await asyncio.sleep(0.2)
    state = await page.evaluate("() => document.body.dataset.callState")
    pytest.fail(f"the call page never reached {wanted!r} (it is {state!r})")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_the_call_page_speaks_the_browsers_language_on_a_phone(
    client: Any, database: Database, clock: FakeClock, tmp_path: Path, language: str
) -> None:
    executable = chromium_path()
    from playwright.async_api import async_playwright, expect

    w, cid = await booked_call(client, database.engine, clock.now())
    base = str(client.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await open_call(
                browser, base, w.gp, cid, language=language, width=390, join=False
            )
            tab = Browsing(page, base, tmp_path, "gp", language)
            await call_state(page, "check")
            await page.get_by_role("button", name=tab.t("call.join")).click()
            await call_state(page, "waiting")
            await expect(page.locator("html")).to_have_attribute("lang", language)
            await expect(page.get_by_role("heading", name=tab.t("call.title"))).to_be_visible()
            await expect(page.get_by_role("status")).to_contain_text(tab.t("call.role.specialist"))
            assert await page.title() == tab.t("call.page_title")
            await tab.assert_translated()
            # Nothing wider than the phone's screen.
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
            leave = page.get_by_role("button", name=tab.t("call.leave"))
            await leave.focus()
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("status")).to_have_text(tab.t("call.status.left"))
            tab.assert_clean()
        finally:
            await browser.close()


@pytest.mark.redis
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_the_call_page_waits_out_a_redis_outage_and_then_joins(
    aiohttp_client: Any,
    database: Database,
    clock: FakeClock,
    tmp_path: Path,
    own_redis: tuple[str, Any],
) -> None:
    executable = chromium_path()
    from playwright.async_api import async_playwright

    url, server = own_redis
    app = await app_on_redis(url, aiohttp_client, database, clock, tmp_path)
    w, cid = await booked_call(app, database.engine, clock.now())
    base = str(app.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            server.stop()
            page = await open_call(browser, base, w.gp, cid)
            await call_state(page, "retrying")
            status = await page.get_by_role("status").text_content()
            before, _, after = text("en", "call.status.retrying").partition("{seconds}")
            assert status is not None and status.startswith(before) and status.endswith(after)
            # Redis back: the page joins with the ticket it was given (tried again, not spent).
            server.start()
            await call_state(page, "waiting")
        finally:
            await browser.close()
