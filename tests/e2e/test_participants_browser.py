"""Inviting on the consultation's card, in Chromium (Kazakh): the specialist finds and invites
a specialist of another specialty, who then finds the consultation in their queue; the GP
invites the patient to the call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, expect, username  # noqa: E402


async def test_the_specialist_invites_a_neurologist_and_the_gp_the_patient(
    client: Any, database: Any, clock: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    neuro = await factories.user(
        w.admin, "specialist", facility_id=w.hospital, specialties=["neurology"]
    )
    await factories.user(w.admin, "patient", patient_id=w.patient_id)
    c = await factories.booked_call(w, DAY_START, "Бас айналу")
    clock.advance(seconds=(DAY_START - timedelta(minutes=10) - clock.now()).total_seconds())

    tab = await open_page("specialist", language="kk")
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    await page.goto(f"{tab.base_url}#/queue")
    card = page.locator("li.consultation").filter(has_text="Бас айналу")
    await card.get_by_role("button", name=tab.t("participants.button")).click()
    panel = card.locator(".participants-panel")
    await check(panel.get_by_text(tab.t("participants.none"))).to_be_visible()
    await panel.get_by_label(tab.t("participants.search")).fill("Test")
    pick = panel.get_by_label(tab.t("participants.specialist"), exact=True)
    # Only the specialist of another specialty is offered (not the GP, not oneself).
    await check(pick).to_have_value(neuro.id)
    await check(pick.locator("option")).to_have_count(2)
    await panel.get_by_role("button", name=tab.t("participants.invite")).click()
    await check(panel.get_by_role("status")).to_have_text(tab.t("participants.invited"))
    await check(panel.locator("ul.participants li")).to_have_count(1)
    await check(panel.locator("ul.participants li")).to_contain_text(
        tab.t("participants.consent.pending")
    )
    await tab.assert_translated()
    await tab.shot("participants-kk")

    invited = await open_page("neurologist", language="kk")
    await invited.login(username(neuro))
    npage = invited.page
    await npage.goto(f"{invited.base_url}#/queue")
    ncard = npage.locator("li.consultation").filter(has_text="Бас айналу")
    await check(ncard.get_by_role("button", name=invited.t("chat.button"))).to_be_visible()
    # Theirs to take part in, not to run.
    await check(ncard.get_by_role("button", name=invited.t("spec.action.start"))).to_have_count(0)
    await invited.assert_translated()

    gp = await open_page("gp", language="kk")
    await gp.login(username(w.gp))
    gpage = gp.page
    await gpage.goto(f"{gp.base_url}#/consultations")
    gcard = gpage.locator(f"li.consultation[data-id='{c['id']}']")
    await gcard.get_by_role("button", name=gp.t("participants.button")).click()
    gpanel = gcard.locator(".participants-panel")
    await check(gpanel.locator("ul.participants li")).to_have_count(1)
    await gpanel.get_by_role("button", name=gp.t("participants.invite_patient")).click()
    await check(gpanel.get_by_role("status")).to_have_text(gp.t("participants.patient_invited"))
    status, options = await w.gp.post(f"/consultations/{c['id']}/call/options", {})
    assert status == 200 and options["patient_invited"] is True
    await gp.assert_translated()
    for t in (tab, invited, gp):
        t.assert_clean()
