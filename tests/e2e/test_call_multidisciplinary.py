"""Three specialists in one call: the consultation's cardiologist and the neurologist and
endocrinologist the cardiologist invited, both covered by the patient's consent once the
patient confirmed each request; peer to peer (a mesh) every page receives video frames from
both others, each tile captioned with that person's name and role (the two invited
specialists told apart by name), with the connection to them in words; through the gateway
every page decodes the two others' video too, captioned the same way. One leaves (no frozen
picture of them stays) and comes back."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from teleconsult.clock import FakeClock

from ..callkit import booked_call, loopback_only
from ..conftest import Database
from ..factories import PASSWORD, Api, login, user
from .browsing import text
from .test_call_browser import (
    CHROMIUM_ARGS,
    call_state,
    chromium_path,
    open_call,
    remote_videos_play,
)

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

# Per remote tile that plays: its caption and how many video frames it has decoded so far.
TILES = """() => [...document.querySelectorAll('#remotes figure.remote.live')].map((f) => ({
  caption: f.querySelector('figcaption').textContent,
  frames: f.querySelector('video').getVideoPlaybackQuality().totalVideoFrames,
  link: f.querySelector('.link-quality').dataset.quality || null,
}))"""

STATUS = "() => document.getElementById('status').textContent"


async def _named_specialist(admin: Api, hospital: str, name: str, specialty: str) -> Api:
    username = f"specialist-{uuid.uuid4().hex[:8]}"
    status, body = await admin.post(
        "/users",
        {
            "username": username,
            "password": PASSWORD,
            "full_name": name,
            "role": "specialist",
            "facility_id": hospital,
            "specialties": [specialty],
        },
    )
    assert status == 201, body
    return await login(admin.client, username)


async def _frames_flow(page: Any, within: float = 30) -> list[dict[str, Any]]:
    """The tiles once both have decoded frames, and more of them a moment later."""
    for _ in range(int(within / 0.5)):
        before = await page.evaluate(TILES)
        if len(before) == 2 and all(t["frames"] > 0 for t in before):
            await asyncio.sleep(1)
            after = await page.evaluate(TILES)
            if [a["frames"] > b["frames"] for a, b in zip(after, before, strict=True)] == [
                True,
                True,
            ]:
                return list(after)
        await asyncio.sleep(0.5)
    pytest.fail(f"frames from both others never flowed: {await page.evaluate(TILES)}")


def _console_error(message: Any, errors: list[str]) -> None:
    # Chromium logs every 4xx/5xx answer to fetch; the pages show those themselves.
    if message.type == "error" and "Failed to load resource" not in message.text:
        errors.append(message.text)


async def _each_sees_both_others(pages: dict[str, Any], captions: dict[str, str]) -> None:
    """Every page decodes frames from both others, each tile captioned with that person's
    name and role, not the page's own (through the gateway too: it says whose media each
    slot carries)."""
    for who, page in pages.items():
        await remote_videos_play(page, 2)
        await _frames_flow(page)
        wanted = sorted(c for other, c in captions.items() if other != who)
        for _ in range(20):
            tiles = await page.evaluate(TILES)
            if sorted(t["caption"] for t in tiles) == wanted:
                break
            await asyncio.sleep(0.25)
        assert sorted(t["caption"] for t in tiles) == wanted, tiles


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("mode", ["p2p", "relay"])
async def test_three_specialists_each_receive_video_from_both_others(
    client: Any, database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Peer to peer: two connections a page; relayed: three slots on the one connection to
    the server's gateway, two of them filled. The GP stays out of the call."""
    executable = chromium_path()
    from playwright.async_api import async_playwright

    loopback_only(monkeypatch)
    w, cid = await booked_call(client, database.engine, clock.now())
    names = {
        "cardio": "Test specialist",
        "neuro": "Aigerim Neurologist",
        "endo": "Dana Endocrinologist",
    }
    neuro = await _named_specialist(w.admin, w.hospital, names["neuro"], "neurology")
    endo = await _named_specialist(w.admin, w.hospital, names["endo"], "endocrinology")
    requests = []
    for invited in (neuro, endo):
        status, body = await w.specialist.post(
            f"/consultations/{cid}/participants", {"user_id": invited.id}
        )
        assert status == 201 and body["consent_status"] == "pending", body
        requests.append(body["consent_request_id"])
    # The patient confirms both requests: the consent covers each invited specialist.
    patient = await user(w.admin, "patient", patient_id=w.patient_id)
    for request in requests:
        status, body = await patient.post(f"/consent-requests/{request}/confirm")
        assert status == 200, body
    status, listed = await w.specialist.get(f"/consultations/{cid}/participants")
    assert status == 200, listed
    assert sorted((p["user_id"], p["consent_status"]) for p in listed["items"]) == sorted(
        [(neuro.id, "confirmed"), (endo.id, "confirmed")]
    )
    for invited in (neuro, endo):
        status, body = await invited.get(f"/patients/{w.patient_id}/passport")
        assert status == 200, body
    status, body = await w.specialist.post(f"/consultations/{cid}/call/options", {"mode": mode})
    assert status == 200 and body["mode"] == mode, body
    base = str(client.make_url("")).rstrip("/")
    role = text("en", "call.role.specialist")
    captions = {who: f"{name}, {role}" for who, name in names.items()}
    people = {"cardio": w.specialist, "neuro": neuro, "endo": endo}
    query = "?steps=off" if mode == "relay" else ""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            pages: dict[str, Any] = {}
            errors: list[str] = []
            for who, api in people.items():
                page = await open_call(browser, base, api, cid, join=False)
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("console", lambda m: _console_error(m, errors))
                # Loaded again with the console watched. The gateway forwards in Python on
                # this small machine: under three browsers its connections look thin and
                # stepping down would stop the video this test is about; the topology is
                # checked with full video (?steps=off).
                await page.goto(f"/call/{cid}{query}")
                await call_state(page, "check")
                await page.locator("#join").click()
                pages[who] = page
                if who == "cardio" and mode == "p2p":
                    # Alone in the room: waiting for both invited specialists, by name.
                    await call_state(page, "waiting")
                    waiting = await page.evaluate(STATUS)
                    assert names["neuro"] in waiting and names["endo"] in waiting, waiting
            await _each_sees_both_others(pages, captions)
            for page in pages.values() if mode == "p2p" else ():
                for _ in range(20):
                    links = [t["link"] for t in await page.evaluate(TILES)]
                    if all(links):
                        break
                    await asyncio.sleep(0.5)
                assert all(link in ("good", "weak", "audio_only") for link in links), links
            assert errors == []
            # The endocrinologist leaves: the others keep only each other, by name.
            await pages["endo"].get_by_role("button", name="Leave").click()
            for who, other in (("cardio", "neuro"), ("neuro", "cardio")):
                await remote_videos_play(pages[who], 1)
                tiles = await pages[who].evaluate(TILES)
                assert [t["caption"] for t in tiles] == [captions[other]], tiles
            # And comes back: everyone sees both others again (through the gateway, the
            # emptied slot is filled and shown again).
            await pages["endo"].goto(f"/call/{cid}{query}")
            await call_state(pages["endo"], "check")
            await pages["endo"].locator("#join").click()
            await _each_sees_both_others(pages, captions)
            assert errors == []
        finally:
            await browser.close()
