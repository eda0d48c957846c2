"""The bell in the header: a GP sees the count of unread messages after a booking, opens the
list, and the count clears (and stays cleared after a reload)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.e2e.browsing import DAY_START, expect, username

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_the_gp_sees_the_bell_count_after_a_booking_and_it_clears_when_opened(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=2)
    status, booked = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "video",
            "urgency": "routine",
            "reason": "chest pain on exertion",
        },
    )
    assert status == 201, booked

    tab = await open_page("gp", language="ru")
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(w.gp))
    bell = page.get_by_role("button", name=t("bell.label", count=1))
    await check(bell).to_be_visible()
    await check(page.locator(".bell-count")).to_have_text("1")

    await bell.click()
    panel = page.get_by_role("region", name=t("bell.title"))
    await check(panel).to_be_visible()
    await check(panel.locator(".bell-what")).to_have_text([t("bell.kind.booked")])
    # A message of the pages comes with its words: when the call is.
    await check(panel.locator(".bell-text")).to_have_count(1)
    await check(page.get_by_role("button", name=t("bell.label", count=0))).to_be_visible()
    await check(page.locator(".bell-count")).to_be_hidden()
    await tab.assert_translated()
    await tab.shot("bell-open")

    await page.reload()
    await check(page.get_by_role("button", name=t("bell.label", count=0))).to_be_visible()
    assert (await w.gp.get("/me/messages/unread"))[1] == {"count": 0}
    tab.assert_clean()
