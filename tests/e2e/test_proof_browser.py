"""The administrator's "declared but not delivered" page in Chromium, in the three languages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, expect, username  # noqa: E402


async def _flagged(w: Any, clock: Any) -> None:
    """A video consultation completed before its slot with nobody in its call (two flags) and
    an async case completed with "ok." for a conclusion (one flag)."""
    video = await factories.booked_call(w, DAY_START, "Chest pain")
    status, case = await w.gp.post(
        "/consultations",
        {
            "patient_id": w.patient_id,
            "specialty": "cardiology",
            "mode": "async",
            "reason": "ECG to read",
        },
    )
    assert status == 201, case
    clock.advance(seconds=(DAY_START - timedelta(minutes=10) - clock.now()).total_seconds())
    for cid, action in ((video["id"], "start"), (case["id"], "claim")):
        status, body = await w.specialist.post(f"/consultations/{cid}/{action}")
        assert status == 200, body
    for cid, conclusion in ((video["id"], "Seen; stable."), (case["id"], "ok.")):
        status, body = await w.specialist.post(
            f"/consultations/{cid}/complete", {"conclusion": conclusion}
        )
        assert status == 200, body


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_report_shows_flags_with_evidence_and_resolves_one(
    client: Any, database: Any, clock: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    await _flagged(w, clock)
    tab = await open_page("admin", language=language, width=390)
    page, check = tab.page, expect()
    await tab.login(username(w.admin))
    await page.goto(f"{tab.base_url}#/proof")
    await check(page.get_by_role("heading", name=tab.t("proof.report.title"))).to_be_visible()

    row = page.locator("section[aria-labelledby=proof-report] tbody tr")
    await check(row).to_have_count(1)
    await check(row).to_contain_text("Test specialist")
    csv = page.get_by_role("link", name=tab.t("proof.csv"))
    await check(csv).to_have_attribute("href", re.compile(r"^/api/v1/proof/report\.csv\?from="))

    flags = page.locator("li.proof-flag")
    await check(flags).to_have_count(3)
    for reason in ("no_joint_minute", "no_conclusion", "before_slot"):
        await check(flags.filter(has_text=tab.t(f"proof.reason.{reason}"))).to_have_count(1)
    await check(flags.filter(has_text=tab.t("proof.flag.no_call"))).to_have_count(2)
    await tab.assert_translated()
    await tab.shot(f"proof-{language}")

    # The evidence of one row; then resolving a flag needs a reason, and is shown at once.
    await row.get_by_role("button").click()
    await check(page.locator("#proof-flags")).to_contain_text("Test specialist")
    first = flags.filter(has_text=tab.t("proof.reason.no_conclusion"))
    await first.get_by_role("button", name=tab.t("proof.resolve.submit")).click()
    reason = first.get_by_label(tab.t("proof.resolve.reason"))
    await check(reason).to_have_attribute("aria-invalid", "true")
    await reason.fill("Conclusion given by phone to the GP and written in the record.")
    await first.get_by_role("button", name=tab.t("proof.resolve.submit")).click()
    await check(first).to_contain_text(tab.t("proof.resolved_done"))
    await check(first).to_contain_text("Conclusion given by phone")
    await check(first).to_contain_text(tab.t("proof.badge.resolved"))
    await check(row.locator("td.num").last).to_have_text("1")
    await tab.assert_translated()
    await tab.shot(f"proof-resolved-{language}")
    tab.assert_clean()
