"""Every page in Kazakh, Russian and English: the browser's language is the default, the
switch changes it, and no English catalogue text is left on a Kazakh or Russian page.

The role journeys (tests/e2e/test_journey_*.py) call Browsing.assert_translated on each page
they pass through; this module covers the sign-in page, which every person sees first.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import expect  # noqa: E402


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
