"""Every page in Kazakh, Russian and English: the browser's language is the default, the
switch changes it, and no English catalogue text is left on a Kazakh or Russian page.

The role journeys (tests/e2e/test_journey_*.py) call Browsing.assert_translated on each page
they pass through; this module covers the sign-in page, which every person sees first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import DAY_START, expect, username  # noqa: E402


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_sign_in_page_speaks_the_browsers_language(
    client: Any, open_page: Any, language: str
) -> None:
    tab = await open_page("visitor", language=language, width=390)
    await tab.page.goto(tab.base_url)
    check = expect()
    await check(tab.page.get_by_role("heading", name=tab.t("login.title"))).to_be_visible()
    await check(tab.page.locator("html")).to_have_attribute("lang", language)
    await tab.assert_translated()
    await tab.shot(f"sign-in-{language}")
    tab.assert_clean()


async def _choose_language(tab: Any, language: str) -> None:
    """Pick a language in the header's switch, found by its label in the page's language."""
    switch = tab.page.get_by_label(tab.t("common.language"))
    await switch.focus()
    await switch.select_option(language)
    tab.language = language
    await expect()(tab.page.locator("html")).to_have_attribute("lang", language)


async def _sign_in(tab: Any, name: str) -> None:
    """Sign in through the form, labelled in the tab's current language."""
    page = tab.page
    await page.get_by_label(tab.t("login.username")).fill(name)
    await page.get_by_label(tab.t("login.password")).fill(factories.PASSWORD)
    await page.get_by_role("button", name=tab.t("login.submit")).click()


async def test_switching_on_the_sign_in_page_translates_it_in_place(
    client: Any, open_page: Any
) -> None:
    tab = await open_page("visitor", language="en", width=390)
    page, check = tab.page, expect()
    await page.goto(tab.base_url)
    await check(page.get_by_role("heading", name=tab.t("login.title"))).to_be_visible()
    await page.get_by_label(tab.t("login.username")).fill("someone")

    await _choose_language(tab, "kk")
    await check(page.get_by_role("heading", name=tab.t("login.title"))).to_be_visible()
    await check(page.get_by_role("button", name=tab.t("login.submit"))).to_be_visible()
    # What was typed stays, and the switch keeps the focus (no reload, no jump).
    await check(page.get_by_label(tab.t("login.username"))).to_have_value("someone")
    await check(page.get_by_label(tab.t("common.language"))).to_be_focused()
    assert await page.title() == f"{tab.t('login.title')} · Teleconsult"
    await tab.assert_translated()
    await tab.shot("sign-in-switched-kk")

    await _choose_language(tab, "ru")
    await check(page.get_by_role("heading", name=tab.t("login.title"))).to_be_visible()
    await tab.assert_translated()
    # A wrong password is told in the chosen language.
    await page.get_by_label(tab.t("login.password")).fill("not the password")
    await page.get_by_role("button", name=tab.t("login.submit")).click()
    await check(page.get_by_role("alert")).to_have_text(tab.t("error.wrong_credentials"))

    # The browser remembers the last choice.
    await page.reload()
    await check(page.locator("html")).to_have_attribute("lang", "ru")
    await check(page.get_by_role("heading", name=tab.t("login.title"))).to_be_visible()
    tab.assert_clean()


async def test_after_sign_in_the_accounts_language_wins(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    resp = await client.patch("/api/v1/me", json={"language": "ru"}, headers=w.gp.headers())
    assert resp.status == 200
    tab = await open_page("gp", language="kk")
    page, check = tab.page, expect()
    await page.goto(tab.base_url)
    await check(page.locator("html")).to_have_attribute("lang", "kk")
    await _sign_in(tab, username(w.gp))
    tab.language = "ru"
    await check(page.get_by_role("button", name=tab.t("app.logout"))).to_be_visible()
    await check(page.locator("html")).to_have_attribute("lang", "ru")
    await check(page.locator("header")).to_contain_text(tab.t("common.role.gp"))
    await check(page.get_by_label(tab.t("common.language"))).to_have_value("ru")
    tab.assert_clean()


async def test_switching_while_signed_in_is_stored_on_the_account(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    tab = await open_page("specialist", language="en")
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    await check(page.locator("header")).to_contain_text(tab.t("common.role.specialist"))
    # The view has loaded (nothing of it will take the focus later).
    await page.wait_for_load_state("networkidle")

    await _choose_language(tab, "kk")
    # The header and the current view are rendered again in Kazakh, without a reload.
    await check(page.get_by_role("button", name=tab.t("app.logout"))).to_be_visible()
    await check(page.locator("header")).to_contain_text(tab.t("common.role.specialist"))
    await check(page.get_by_label(tab.t("common.language"))).to_be_focused()
    status, me = await w.specialist.get("/me")
    assert status == 200
    for _ in range(50):
        if me["language"] == "kk":
            break
        await asyncio.sleep(0.1)
        _, me = await w.specialist.get("/me")
    assert me["language"] == "kk"

    await page.reload()
    await check(page.locator("html")).to_have_attribute("lang", "kk")
    await check(page.get_by_role("button", name=tab.t("app.logout"))).to_be_visible()

    # Another browser, in English and with nothing remembered, follows the account.
    other = await open_page("specialist-elsewhere", language="en")
    await other.page.goto(other.base_url)
    await _sign_in(other, username(w.specialist))
    other.language = "kk"
    await check(other.page.locator("html")).to_have_attribute("lang", "kk")
    await check(other.page.get_by_role("button", name=other.t("app.logout"))).to_be_visible()
    tab.assert_clean()
    other.assert_clean()


async def test_the_call_page_follows_the_account_and_has_its_own_switch(
    client: Any, database: Any, open_page: Any
) -> None:
    w = await factories.world(client, database.engine)
    call = await factories.booked_call(w, DAY_START, "Palpitations")
    tab = await open_page("call-language", language="en", width=390)
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    # Signing in stored this browser's English on the account; then the account's language
    # changed on another device.
    for _ in range(50):
        _, me = await w.specialist.get("/me")
        if me["language"] == "en":
            break
        await asyncio.sleep(0.1)
    assert me["language"] == "en"
    resp = await client.patch("/api/v1/me", json={"language": "kk"}, headers=w.specialist.headers())
    assert resp.status == 200

    await page.goto(f"{tab.base_url}static/call.html?consultation={call['id']}")
    tab.language = "kk"
    await check(page.locator("html")).to_have_attribute("lang", "kk")
    await check(page.get_by_role("heading", name=tab.t("call.title"))).to_be_visible()
    await check(page.locator("body")).to_have_attribute("data-call-state", "not-open")
    await check(page.locator("#status")).to_have_text(tab.t("call.status.not_open"))
    await check(page.locator("#opens-at")).to_have_text(tab.t("call.check.opens_at", time="08:45"))
    await tab.assert_translated()

    # The header's switch: the waiting room speaks Russian at once, and the account keeps it.
    await _choose_language(tab, "ru")
    await check(page.get_by_role("heading", name=tab.t("call.title"))).to_be_visible()
    await check(page.locator("#status")).to_have_text(tab.t("call.status.not_open"))
    await check(page.locator("#opens-at")).to_have_text(tab.t("call.check.opens_at", time="08:45"))
    assert await page.title() == tab.t("call.page_title")
    await tab.assert_translated()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await tab.shot("call-waiting-ru")
    for _ in range(50):
        _, me = await w.specialist.get("/me")
        if me["language"] == "ru":
            break
        await asyncio.sleep(0.1)
    assert me["language"] == "ru"
    tab.assert_clean()
