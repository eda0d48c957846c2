"""A file in the consultation's chat, in Chromium (Russian): the GP sends an ECG from the
card's Messages panel (a progress bar), and the specialist, whose panel is open, sees its
thumbnail arrive without reopening it and opens the image in place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories, filekit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, expect, username  # noqa: E402


async def test_a_file_sent_in_the_chat_reaches_the_open_panel_and_opens_in_place(
    client: Any, database: Any, clock: Any, open_page: Any, tmp_path: Any
) -> None:
    w = await factories.world(client, database.engine)
    c = await factories.booked_call(w, DAY_START, "Палпитации")
    clock.advance(seconds=(DAY_START - timedelta(minutes=10) - clock.now()).total_seconds())
    status, _ = await w.specialist.post(f"/consultations/{c['id']}/start")
    assert status == 200
    ecg = tmp_path / "ecg-12.jpg"
    ecg.write_bytes(filekit.jpeg(size=(600, 300)))
    check = expect()

    # The specialist's panel is open before anything is sent.
    specialist = await open_page("specialist", language="ru")
    spage = specialist.page
    await specialist.login(username(w.specialist))
    await spage.goto(f"{specialist.base_url}#/queue")
    scard = spage.locator("li.consultation").filter(has_text="Палпитации")
    await scard.get_by_role("button", name=specialist.t("chat.button")).click()
    spanel = scard.locator(".chat-panel")
    await check(spanel.get_by_text(specialist.t("chat.empty"))).to_be_visible()

    gp = await open_page("gp", language="ru")
    page = gp.page
    await gp.login(username(w.gp))
    await page.goto(f"{gp.base_url}#/consultations")
    card = page.locator(f"li.consultation[data-id='{c['id']}']")
    await card.get_by_role("button", name=gp.t("chat.button")).click()
    panel = card.locator(".chat-panel")
    await panel.get_by_label(gp.t("chat.attach")).set_input_files(str(ecg))
    row = panel.locator("li.upload")
    await check(row.locator("progress")).to_have_attribute("value", "100")
    await check(row).to_contain_text(gp.t("files.uploaded"))
    await check(panel.locator(".chat-messages li")).to_have_count(1)
    preview = gp.t("files.preview", name="ecg-12.jpg")
    await check(panel.get_by_role("img", name=preview)).to_be_visible()
    await gp.assert_translated()
    await gp.shot("chat-file-ru")

    # Live: the specialist's open panel shows it, and opens it in place.
    await check(spanel.locator(".chat-messages li")).to_have_count(1)
    await check(spanel.locator(".chat-messages li .who")).to_contain_text("Test gp")
    await check(spanel.get_by_role("img", name=preview)).to_be_visible()
    await spanel.get_by_role("button", name=specialist.t("files.open", name="ecg-12.jpg")).click()
    viewer = spage.get_by_role("dialog", name="ecg-12.jpg")
    await check(viewer.get_by_role("img", name="ecg-12.jpg")).to_be_visible()
    await spage.wait_for_function(
        "() => document.querySelector('dialog img')?.naturalWidth === 600"
    )
    await specialist.assert_translated()
    gp.assert_clean()
    specialist.assert_clean()
