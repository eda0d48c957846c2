"""The administrator's coding help page: how often the suggested ICD-10 codes were chosen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import expect, username
from tests.integration.passport_support import clinic, grant

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_administrator_sees_how_often_suggestions_were_chosen(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    # The first note takes the first suggestion; the second the third; the third was written
    # without help, and does not count.
    for suggested, chosen in ((["I10", "I48.0"], ["I10"]), (["J45.9", "J44.1", "I10"], ["I10"])):
        status, body = await c.w.specialist.post(
            f"/consultations/{c.consultation_id}/notes",
            {"text": "Seen.", "diagnoses": chosen, "suggested": suggested},
        )
        assert status == 201, body
    status, body = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/notes", {"text": "Seen again.", "diagnoses": ["I10"]}
    )
    assert status == 201, body

    tab = await open_page("admin-coding", language=language, width=390)
    page, check, t = tab.page, expect(), tab.t
    await tab.login(username(c.w.admin))
    await page.get_by_role("link", name=t("coding.quality.nav")).click()
    await check(page.get_by_role("heading", name=t("coding.quality.title"))).to_be_visible()
    rows = page.locator("section[aria-labelledby=coding-quality] tbody tr")
    await check(rows).to_have_count(2)  # the whole period, then this month
    total = rows.first
    await check(total.locator("th")).to_have_text(t("coding.quality.total"))
    cells = total.locator("td")
    await check(cells.nth(0)).to_have_text("2")
    await check(cells.nth(1)).to_contain_text("1 · 50")  # the first suggestion: one of two
    await check(cells.nth(2)).to_contain_text("2 · 100")  # one of the first three: both
    await tab.shot(f"admin-coding-{language}")

    # A period with no notes says so.
    await page.get_by_label(t("proof.from"), exact=True).fill("2001-01-01")
    await page.get_by_label(t("proof.to"), exact=True).fill("2001-12-31")
    await page.get_by_role("button", name=t("proof.show")).click()
    await check(page.get_by_text(t("coding.quality.empty"))).to_be_visible()
    await tab.assert_translated()
    tab.assert_clean()
