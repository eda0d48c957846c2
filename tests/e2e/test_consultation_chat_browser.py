"""The chat on the consultation's card, for the GP and the specialist, in Chromium (Russian):
the messages newest last with who wrote them, a box while the consultation is open, read
only once it is completed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, expect, username  # noqa: E402


async def test_gp_and_specialist_write_on_the_consultation_page_then_read_only(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    c = await factories.booked_call(w, DAY_START, "Палпитации")
    clock.advance(seconds=(DAY_START - timedelta(minutes=10) - clock.now()).total_seconds())
    status, _ = await w.specialist.post(f"/consultations/{c['id']}/start")
    assert status == 200
    status, _ = await w.specialist.post(f"/consultations/{c['id']}/chat", {"text": "ЭКГ есть?"})
    assert status == 201
    clock.advance(seconds=60)

    gp = await open_page("gp", language="ru")
    page, check = gp.page, expect()
    await gp.login(username(w.gp))
    await page.goto(f"{gp.base_url}#/consultations")
    card = page.locator(f"li.consultation[data-id='{c['id']}']")
    await card.get_by_role("button", name=gp.t("chat.button")).click()
    panel = card.locator(".chat-panel")
    await check(panel.get_by_role("heading", name=gp.t("chat.title"))).to_be_visible()
    await check(panel.locator(".chat-messages li")).to_have_count(1)
    await check(panel.locator(".chat-messages li")).to_contain_text("ЭКГ есть?")
    await check(panel.locator(".chat-messages li .who")).to_contain_text("Test specialist")
    await panel.get_by_label(gp.t("chat.label")).fill("Да, отправлю файлом.")
    await panel.get_by_role("button", name=gp.t("chat.send")).click()
    # Newest last, written by "you".
    await check(panel.locator(".chat-messages li")).to_have_count(2)
    await check(panel.locator(".chat-messages li").last).to_contain_text("Да, отправлю файлом.")
    await check(panel.locator(".chat-messages li").last.locator(".who")).to_have_text(
        gp.t("people.you")
    )
    await gp.assert_translated()
    await gp.shot("consultation-chat-ru")

    specialist = await open_page("specialist", language="ru")
    spage = specialist.page
    await specialist.login(username(w.specialist))
    await spage.goto(f"{specialist.base_url}#/queue")
    scard = spage.locator("li.consultation").filter(has_text="Палпитации")
    await scard.get_by_role("button", name=specialist.t("chat.button")).click()
    spanel = scard.locator(".chat-panel")
    await check(spanel.locator(".chat-messages li")).to_have_count(2)
    await check(spanel.locator(".chat-messages li").last).to_contain_text("Test gp")
    await specialist.assert_translated()

    # Completed: the messages stay, the box goes.
    status, _ = await w.specialist.post(
        f"/consultations/{c['id']}/complete", {"conclusion": "Холтер через неделю."}
    )
    assert status == 200
    await page.reload()
    card = page.locator(f"li.consultation[data-id='{c['id']}']")
    await card.get_by_role("button", name=gp.t("chat.button")).click()
    panel = card.locator(".chat-panel")
    await check(panel.locator(".chat-messages li")).to_have_count(2)
    await check(panel.get_by_text(gp.t("chat.read_only"))).to_be_visible()
    await check(panel.get_by_label(gp.t("chat.label"))).to_have_count(0)
    await gp.assert_translated()
    gp.assert_clean()
    specialist.assert_clean()
