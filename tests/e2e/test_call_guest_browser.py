"""A patient without an account, in Chromium (Kazakh): the GP invites them on the
consultation's card and is told the link goes by SMS to their phone (hinted); when the call
opens, the patient follows the SMS link on a phone-sized page and waits in the call room."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from teleconsult.appkeys import MESSAGES
from teleconsult.config import Settings
from tests import factories
from tests.e2e.browsing import DAY_START, TIMEZONE, Browsing, expect, username
from tests.e2e.conftest import LOCALES
from tests.e2e.test_call_browser import CHROMIUM_ARGS, call_state, chromium_path
from tests.integration.messaging_support import (
    PHONE,
    Gateway,
    book,
    patient_with_phone,
)
from tests.integration.messaging_support import gateway as gateway
from tests.integration.messaging_support import sms_settings as sms_settings

pytestmark = [pytest.mark.media, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

CALL_LINK = re.compile(r"https?://\S+/call/[\w-]+#link=[\w-]+")


@pytest.fixture
def settings(sms_settings: Settings) -> Settings:
    """The app's settings send SMS to the test's gateway."""
    return sms_settings


async def _sms_link(client: Any, gateway: Gateway) -> str:
    await client.app[MESSAGES].nudge()
    async with asyncio.timeout(15):
        while True:
            for sms in gateway.received:
                found = CALL_LINK.search(sms["text"])
                if found:
                    assert sms["phone"] == PHONE, sms
                    return found.group(0)
            gateway.arrived.clear()
            await gateway.arrived.wait()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_the_patient_without_an_account_joins_from_the_sms_link_on_a_phone(
    client: Any, database: Any, clock: Any, open_page: Any, gateway: Gateway, shots: Path
) -> None:
    w = await factories.world(client, database.engine)
    await factories.availability(w.specialist, DAY_START, hours=1)
    patient_id = await patient_with_phone(w.gp)
    c = await book(w, patient_id, DAY_START)

    gp = await open_page("gp", language="kk")
    check = expect()
    await gp.login(username(w.gp))
    gpage = gp.page
    await gpage.goto(f"{gp.base_url}#/consultations")
    card = gpage.locator(f"li.consultation[data-id='{c['id']}']")
    await card.get_by_role("button", name=gp.t("participants.button")).click()
    panel = card.locator(".participants-panel")
    await check(panel.get_by_text(gp.t("participants.invite_patient_hint"))).to_be_visible()
    await panel.get_by_role("button", name=gp.t("participants.invite_patient")).click()
    await check(panel.get_by_role("status")).to_have_text(
        gp.t("participants.patient_sms", phone="•••" + PHONE[-4:])
    )
    await gp.assert_translated()
    await gp.shot("guest-invited-kk")
    # Opened again later, the card still says the patient is invited and where the link goes.
    await gpage.reload()
    await card.get_by_role("button", name=gp.t("participants.button")).click()
    await check(panel.locator(".invite-patient")).to_have_text(
        gp.t("participants.patient_sms", phone="•••" + PHONE[-4:])
    )
    await check(
        panel.get_by_role("button", name=gp.t("participants.invite_patient"))
    ).to_have_count(0)
    gp.assert_clean()

    # The call opens: the SMS brings the link.
    clock.set(DAY_START - timedelta(minutes=10))
    link = await _sms_link(client, gateway)

    # The patient's phone: a browser with a (fake) camera and microphone, 390 px wide.
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                locale=LOCALES["kk"],
                timezone_id=TIMEZONE,
                viewport={"width": 390, "height": 800},
            )
            page = await context.new_page()
            page.set_default_timeout(15_000)
            await page.clock.set_fixed_time(clock.now())
            phone = Browsing(page, gp.base_url, shots, "patient", "kk")
            await page.goto(link)
            await call_state(page, "check")
            assert "#link=" not in page.url
            # This session serves the call only: no way back into the app.
            await check(page.get_by_role("link", name=phone.t("call.back"))).to_be_hidden()
            await check(page.locator("html")).to_have_attribute("lang", "kk")
            await check(page.locator("#waiting-for")).to_contain_text(phone.t("call.role.gp"))
            await page.get_by_role("button", name=phone.t("call.join")).click()
            await call_state(page, "waiting")
            await phone.assert_translated()
            assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
            await phone.shot("guest-waiting-kk-390")
            phone.assert_clean()
        finally:
            await browser.close()
