"""The GP moves a booked call from its card, in Kazakh: "Move" shows the specialist's free
times, one click moves the call (every time disabled while the request runs), and the card
shows the new time; the specialist moves it from their queue the same way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests import factories
from tests.e2e.browsing import DAY_START, expect, username

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_the_gp_moves_a_booked_call_to_a_free_time_in_one_click(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    _, page_ = await w.gp.get("/slots", specialist_id=w.specialist.id)
    slots = page_["items"]
    status, booked = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "reason": "chest pain on exertion",
            "slot_id": slots[0]["id"],
        },
    )
    assert status == 201, booked

    tab = await open_page("gp", language="kk")
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.gp))
    await page.goto(f"{tab.base_url}#/consultations")
    card = page.locator(f'li.consultation[data-id="{booked["id"]}"]')
    await check(card).to_be_visible()
    await card.get_by_role("button", name=t("consultation.action.move")).click()
    panel = card.locator(".move-panel")
    await check(panel.get_by_role("heading", name=t("consultation.move.title"))).to_be_visible()
    times = panel.locator(".move-time")
    # The five free times of the specialist; the call's own time is not offered.
    await check(times).to_have_count(5)
    await tab.assert_translated()
    await tab.shot("move-times")

    # Hold the request, to see every time disabled while it runs.
    release = asyncio.Event()

    async def held(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/move", held)
    target = slots[3]
    await panel.locator(f'.move-time[data-slot="{target["id"]}"]').click()
    for i in range(5):
        await check(times.nth(i)).to_be_disabled()
    release.set()

    # The list is read again: the card shows the new time, and the panel is gone.
    await check(card.locator(f'.when time[datetime="{target["starts_at"]}"]')).to_be_visible()
    await check(card.locator(".move-panel")).to_be_hidden()
    _, now = await w.gp.get(f"/consultations/{booked['id']}")
    assert now["slot_id"] == target["id"] and now["status"] == "scheduled"
    await tab.assert_translated()
    tab.assert_clean()

    # The specialist moves it from their queue too: back to the first time.
    spec = await open_page("specialist", language="kk")
    await spec.login(username(w.specialist))
    card = spec.page.locator("li.consultation", has_text="chest pain on exertion")
    await check(card).to_be_visible()
    await card.get_by_role("button", name=t("consultation.action.move")).click()
    await card.locator(f'.move-time[data-slot="{slots[0]["id"]}"]').click()
    await check(
        spec.page.locator(f'li.consultation .when time[datetime="{slots[0]["starts_at"]}"]')
    ).to_be_visible()
    _, now = await w.gp.get(f"/consultations/{booked['id']}")
    assert now["slot_id"] == slots[0]["id"]
    await spec.assert_translated()
    spec.assert_clean()
