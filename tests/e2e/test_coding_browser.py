"""web/js/suggest.js in Chromium: a specialist's note textarea gets ICD-10 suggestions, with
titles and the matched words in the page's language, and a pick reaches the note form.

The note form adopts the module after its own work is merged; here a textarea is put on the
signed-in specialist's page the way the form will do it, at phone width.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.integration.passport_support import consultation_in_progress

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from tests.e2e.browsing import expect, username  # noqa: E402

ATTACH = """async ([consultationId, label]) => {
  const { suggestCodes } = await import("/static/js/suggest.js");
  const main = document.querySelector("main") || document.body;
  const field = document.createElement("div");
  field.className = "field";
  const lab = document.createElement("label");
  lab.htmlFor = "note-under-test";
  lab.textContent = label;
  const area = document.createElement("textarea");
  area.id = "note-under-test";
  field.append(lab, area);
  main.prepend(field);
  window.picked = [];
  suggestCodes(area, consultationId, (item) => window.picked.push(item.code), { delay: 50 });
}"""

NOTES = {
    "ru": ("Пароксизм фибрилляции предсердий, АГ 2 степени.", "I48.0", "фибрилляции"),
    "kk": ("Созылмалы жүрек жеткіліксіздігі, аяқтың ісінуі.", "I50.0", "жеткіліксіздігі"),
    "en": ("Known COPD with an acute exacerbation.", "J44.1", "exacerbation"),
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_a_specialist_sees_and_picks_suggested_codes(
    client: Any, database: Any, open_page: Any, language: str
) -> None:
    w = await factories.world(client, database.engine)
    consultation_id = await consultation_in_progress(w)
    tab = await open_page("specialist", width=390, language=language)
    page, check = tab.page, expect()
    await tab.login(username(w.specialist))
    label = tab.t("spec.editor.note")
    await page.evaluate(ATTACH, [consultation_id, label])

    text, code, word = NOTES[language]
    await page.get_by_label(label, exact=True).fill(text)
    region = page.get_by_role("region", name=tab.t("coding.suggest.title"))
    items = region.get_by_role("listitem")
    await check(items.first).to_contain_text(code)
    await check(items.first).to_contain_text(word)
    first = items.first
    await check(first.locator(".coding-title")).not_to_be_empty()
    await check(region.get_by_role("status")).not_to_have_text(tab.t("coding.suggest.loading"))

    add = first.get_by_role("button")
    await check(add).to_have_text(tab.t("coding.suggest.add"))
    await add.click()
    assert await page.evaluate("window.picked") == [code]
    await check(add).to_have_text(tab.t("coding.suggest.added"))
    await check(add).to_be_disabled()

    # Nothing wider than a phone.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await tab.assert_translated()
    await tab.shot(f"coding-suggestions-{language}")
    tab.assert_clean()
