"""The call room in the browser: device check (camera, microphone and speaker levels),
joining, captions, timer, controls, quality, chat, rejoining after a refresh, in the three
languages at 1280 and 390 px; and the stepping-down decision (web/js/call/steps.js) fed
with made-up samples."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from teleconsult.clock import FakeClock

from .. import filekit
from ..callkit import booked_call
from ..conftest import Database
from ..factories import PASSWORD
from .browsing import Browsing
from .conftest import LOCALES
from .test_call_browser import CHROMIUM_ARGS, call_state, chromium_path, remote_videos_play

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]


async def call_tab(
    browser: Any,
    base: str,
    who: Any,
    cid: str,
    shots: Path,
    name: str,
    *,
    language: str = "en",
    width: int = 1280,
) -> Browsing:
    """A signed-in tab on the call page, its console watched from the first line."""
    context = await browser.new_context(
        base_url=base, locale=LOCALES[language], viewport={"width": width, "height": 800}
    )
    login = await context.request.post(
        "/api/v1/auth/login", data={"username": who.user["username"], "password": PASSWORD}
    )
    assert login.ok, await login.text()
    page = await context.new_page()
    page.set_default_timeout(15_000)
    tab = Browsing(page, base, shots, name, language)
    await page.goto(f"/call/{cid}")
    return tab


async def poll(page: Any, script: str, wanted: Any, within: float = 30) -> None:
    for _ in range(int(within / 0.2)):
        if await page.evaluate(script) == wanted:
            return
        await asyncio.sleep(0.2)
    got = await page.evaluate(script)
    pytest.fail(f"{script} stayed {got!r}, not {wanted!r}")


async def fits(page: Any, width: int) -> None:
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("language", "width"),
    # Every language once and both widths: the page lays out the same in each language.
    [("en", 1280), ("kk", 390), ("ru", 390)],
)
async def test_the_call_room_in_every_language_and_width(
    client: Any,
    database: Database,
    clock: FakeClock,
    shots: Path,
    language: str,
    width: int,
    tmp_path: Path,
) -> None:
    executable = chromium_path()
    from playwright.async_api import async_playwright, expect

    w, cid = await booked_call(client, database.engine, clock.now())
    base = str(client.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            gp = await call_tab(
                browser, base, w.gp, cid, shots, "gp", language=language, width=width
            )
            page = gp.page
            # The device check: camera preview, microphone level, audio only, join.
            await call_state(page, "check")
            await expect(page.locator("html")).to_have_attribute("lang", language)
            assert await page.title() == gp.t("call.page_title")
            await expect(page.get_by_role("heading", name=gp.t("call.check.title"))).to_be_visible()
            await expect(page.get_by_label(gp.t("call.check.preview"), exact=True)).to_be_visible()
            await expect(page.get_by_label(gp.t("call.check.audio_only"))).to_be_visible()
            await expect(page.locator("#waiting-for")).to_contain_text(gp.t("call.role.specialist"))
            await poll(page, "() => document.getElementById('mic-level').value > 0", True)
            # The speaker: a test tone, its level on the meter while it plays, then silence.
            speaker = page.get_by_role("button", name=gp.t("call.check.speaker_test"))
            await speaker.click()
            await expect(speaker).to_have_attribute("aria-pressed", "true")
            await poll(page, "() => document.getElementById('speaker-level').value > 0.1", True)
            await expect(speaker).to_have_attribute("aria-pressed", "false", timeout=10_000)
            assert await page.evaluate("() => document.getElementById('speaker-level').value") == 0
            await gp.assert_translated()
            await fits(page, width)
            await gp.shot(f"check-{language}-{width}")
            # Joined alone: the waiting room names whom we wait for.
            join = page.get_by_role("button", name=gp.t("call.join"))
            await join.focus()
            await page.keyboard.press("Enter")
            await call_state(page, "waiting")
            await expect(page.get_by_role("status")).to_contain_text(gp.t("call.role.specialist"))

            specialist = await call_tab(
                browser,
                base,
                w.specialist,
                cid,
                shots,
                "specialist",
                language=language,
                width=width,
            )
            await call_state(specialist.page, "check")
            await specialist.page.get_by_role("button", name=specialist.t("call.join")).click()
            for tab in (gp, specialist):
                await remote_videos_play(tab.page, 1)
                await call_state(tab.page, "connected")
                await expect(tab.page.get_by_label(tab.t("call.timer"))).to_have_text(
                    __import__("re").compile(r"^\d\d:\d\d$")
                )
            # Captions: the other's name and role; your own picture small.
            caption = await page.locator("#remotes figcaption").text_content()
            assert caption is not None and gp.t("call.role.specialist") in caption
            assert specialist.page is not None
            sizes = await page.evaluate(
                "() => [document.querySelector('#remotes video').getBoundingClientRect().width,"
                " document.getElementById('local').getBoundingClientRect().width]"
            )
            assert sizes[0] > 2 * sizes[1], sizes
            # Connection quality in words on both sides.
            # (The first samples, before packets flow, may say "no connection".)
            for tab in (gp, specialist):
                words = [tab.t(f"call.quality.{q}") for q in ("good", "weak", "audio_only")]
                pattern = "^(" + "|".join(re.escape(w) for w in words) + ")$"
                await expect(tab.page.locator("#quality-mine")).to_have_text(
                    re.compile(pattern), timeout=20_000
                )
            # Mute and camera: pressed state and their new names.
            mute = page.get_by_role("button", name=gp.t("call.mute"))
            await mute.click()
            await expect(page.get_by_role("button", name=gp.t("call.unmute"))).to_have_attribute(
                "aria-pressed", "true"
            )
            await page.get_by_role("button", name=gp.t("call.camera_off")).click()
            await expect(page.get_by_role("button", name=gp.t("call.camera_on"))).to_be_visible()
            # Chat: written on one side, shown on the other.
            await page.get_by_label(gp.t("call.chat.label"), exact=True).fill("ЭКГ: синусовый ритм")
            await page.get_by_role("button", name=gp.t("call.chat.send")).click()
            await expect(specialist.page.locator("#chat-log")).to_contain_text(
                "ЭКГ: синусовый ритм"
            )
            await expect(page.locator("#chat-log")).to_contain_text(gp.t("call.chat.you"))
            # A file in the chat: uploaded with its bar, its thumbnail on the other side.
            ecg = tmp_path / "ecg.png"
            ecg.write_bytes(filekit.png())
            await page.get_by_label(gp.t("call.chat.attach")).set_input_files(str(ecg))
            await expect(page.locator("#chat-attach progress")).to_have_attribute("value", "100")
            preview = gp.t("files.preview", name="ecg.png")
            await expect(specialist.page.get_by_role("img", name=preview)).to_be_visible()
            await expect(page.get_by_role("link", name=gp.t("call.back"))).to_be_visible()
            for tab in (gp, specialist):
                await tab.assert_translated()
                await fits(tab.page, width)
            await gp.shot(f"room-{language}-{width}")
            # A refresh joins again by itself, without the device check.
            await specialist.page.reload()
            await call_state(specialist.page, "connected", within=45)
            await remote_videos_play(page, 1)
            await page.get_by_role("button", name=gp.t("call.leave")).click()
            await expect(page.get_by_role("status")).to_have_text(gp.t("call.status.left"))
            gp.assert_clean()
            specialist.assert_clean()
        finally:
            await browser.close()


STEPS_CHECK = """async () => {
  const m = await import('/static/js/call/steps.js');
  const run = (available, loss, rtt, seconds, from, changedAt = -Infinity) => {
    let step = from, changed = changedAt; const samples = [];
    for (let at = 0; at < seconds; at += 1) {
      samples.push({ at, rtt, loss, available });
      const next = m.nextStep(samples, step, changed);
      if (next !== step) { step = next; changed = at; }
    }
    return step;
  };
  const sdp = 'v=0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=rtpmap:111 opus/48000/2\\r\\n' +
    'a=fmtp:111 minptime=10;useinbandfec=0\\r\\n';
  return {
    steady: run(2_000_000, 0, 0.05, 30, 0),
    thin: run(150_000, 0.01, 0.6, 20, 0),
    middling: run(400_000, 0, 0.1, 20, 0),
    lossy: m.nextStep([{at: 0, loss: 0.4, rtt: 0.1, available: 2e6},
                       {at: 1, loss: 0.4, rtt: 0.1, available: 2e6}], 0),
    oneBadSecond: m.nextStep([{at: 0, loss: 0, rtt: 0.1, available: 2e6},
                              {at: 1, loss: 0.5, rtt: 0.1, available: 2e6}], 0),
    recovered: run(2_000_000, 0, 0.05, 40, 3),
    notYet: run(2_000_000, 0, 0.05, 5, 3),
    quality: [m.quality(0, {loss: 0, rtt: 0.1}), m.quality(1, null), m.quality(3, null)],
    silent: m.audioLost([{at: 0, packets: 10}, {at: 4, packets: 50}, {at: 10, packets: 50}]),
    hearing: m.audioLost([{at: 0, packets: 10}, {at: 4, packets: 50}, {at: 10, packets: 90}]),
    fmtp: m.opusForThinLinks(sdp).split('\\r\\n').find((l) => l.startsWith('a=fmtp:111')),
  };
}"""


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_the_stepping_decision_on_made_up_samples(
    client: Any, database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    executable = chromium_path()
    from playwright.async_api import async_playwright

    w, cid = await booked_call(client, database.engine, clock.now())
    base = str(client.make_url("")).rstrip("/")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            tab = await call_tab(browser, base, w.gp, cid, tmp_path, "gp")
            await call_state(tab.page, "check")
            got = await tab.page.evaluate(STEPS_CHECK)
        finally:
            await browser.close()
    assert got["steady"] == 0
    assert got["thin"] == 3, "150 kbit/s: down to audio only"
    assert got["middling"] == 1, "400 kbit/s: half resolution"
    assert got["lossy"] == 3, "heavy loss: straight to audio only"
    assert got["oneBadSecond"] == 0
    assert got["recovered"] == 0, "a recovered link steps all the way back up"
    assert got["notYet"] == 3, "not back up after a few good seconds"
    assert got["quality"] == ["good", "weak", "audio_only"]
    assert got["silent"] is True and got["hearing"] is False
    assert "useinbandfec=1" in got["fmtp"] and "maxaveragebitrate=24000" in got["fmtp"]
    assert "useinbandfec=0" not in got["fmtp"]
