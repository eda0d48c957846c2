"""One person's browser tab on the real app, for the page tests.

The browser and the server share one fixed time (the server's FakeClock and Playwright's
clock), in the Asia/Aqtobe time zone (UTC+5), so "today" and the local times on a page are
known. The fixtures that open tabs live in tests/e2e/conftest.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
HAS_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEZONE = "Asia/Aqtobe"  # UTC+5 all year
# 08:00 local on a Monday; the day's availability is 09:00-11:00 local.
NOW = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)
DAY_START = datetime(2030, 3, 4, 4, 0, tzinfo=UTC)

CATALOGUES = Path(__file__).resolve().parents[2] / "web" / "i18n"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@cache
def catalogue(language: str) -> dict[str, Any]:
    """A language's catalogue as the pages load it (web/i18n/<language>.json)."""
    return dict(json.loads((CATALOGUES / f"{language}.json").read_text("utf-8")))


def text(language: str, key: str, **params: Any) -> str:
    """A catalogue text with its {placeholders} filled (plural entries: the "other" form)."""
    entry = catalogue(language)[key]
    if isinstance(entry, dict):
        entry = entry["other"]
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), str(entry))


def untranslated(language: str) -> set[str]:
    """English texts (without placeholders) whose translation in `language` differs."""
    english, other = catalogue("en"), catalogue(language)
    found: set[str] = set()
    for key, entry in english.items():
        forms = entry.values() if isinstance(entry, dict) else [entry]
        theirs = other.get(key)
        their_forms = set(theirs.values()) if isinstance(theirs, dict) else {theirs}
        for form in forms:
            if "{" not in form and form not in their_forms:
                found.add(form.strip())
    return found


# Every visible text node and every label-like attribute on the page, trimmed.
_VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const value = node.textContent.trim();
    if (!value || !el || el.closest("script, style, [hidden]")) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    out.push(value);
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
    for (const name of ["placeholder", "aria-label", "title"]) {
      const value = (el.getAttribute(name) || "").trim();
      if (value) out.push(value);
    }
  }
  out.push(document.title);
  return out;
}"""


# Every visible control without a name a screen reader can say (its <label>, aria-label,
# aria-labelledby, a button's text or title), and how far the page runs past the window's
# right edge (a phone's 390 px included).
_UNLABELLED = """() => {
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (by.some((id) => (document.getElementById(id)?.textContent || "").trim())) return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if (el.matches("button, summary, a")) return Boolean(el.textContent.trim() || el.title);
    if (el.matches("input[type=submit], input[type=button]")) return Boolean(el.value);
    return Boolean(el.title);
  };
  const controls = document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button, summary, [role=combobox], [role=tab]"
  );
  return [...controls]
    .filter((el) => !el.closest("[hidden]") && (!el.checkVisibility || el.checkVisibility()))
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
}"""
_OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


class Browsing:
    """One person's browser tab, with the console watched for errors."""

    def __init__(
        self, page: Any, base_url: str, shots: Path, who: str, language: str = "en"
    ) -> None:
        self.page = page
        self.language = language
        self.base_url = base_url
        self.shots = shots
        self.who = who
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)
        # Destructive actions ask window.confirm; the person agrees.
        page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: Any) -> None:
        # Chromium logs every 4xx/5xx answer to fetch; the pages show those themselves.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def t(self, key: str, **params: Any) -> str:
        """The text the page shows for a catalogue key in this tab's language."""
        return text(self.language, key, **params)

    async def login(self, username: str) -> None:
        page = self.page
        await page.goto(self.base_url)
        await page.get_by_label(self.t("login.username")).fill(username)
        await page.get_by_label(self.t("login.password")).fill(factories.PASSWORD)
        await page.get_by_role("button", name=self.t("login.submit")).click()
        await page.get_by_role("button", name=self.t("app.logout")).wait_for()

    async def assert_translated(self) -> None:
        """No visible text is an English catalogue entry (in a Kazakh or Russian tab), no
        text anywhere on the page is a raw UUID, every visible control has a label, and
        nothing runs past the window's right edge."""
        texts: list[str] = await self.page.evaluate(_VISIBLE_TEXTS)
        uuids = [value for value in texts if UUID.search(value)]
        assert uuids == [], f"raw ids shown: {uuids}"
        unlabelled: list[str] = await self.page.evaluate(_UNLABELLED)
        assert unlabelled == [], f"controls without a label: {unlabelled}"
        overflow = await self.page.evaluate(_OVERFLOW)
        assert overflow <= 0, f"the page runs {overflow} px past the window's right edge"
        if self.language != "en":
            english = untranslated(self.language)
            left = sorted({value for value in texts if value in english})
            assert left == [], f"English left on a {self.language} page: {left}"

    async def tab_to(self, locator: Any, limit: int = 120) -> None:
        """Press Tab until ``locator`` has the focus, as a person with only a keyboard would
        reach it; a control the Tab key never reaches fails."""
        await locator.wait_for()
        handle = await locator.element_handle()
        for _ in range(limit):
            if await handle.evaluate("(el) => el === document.activeElement"):
                return
            await self.page.keyboard.press("Tab")
        raise AssertionError(f"the keyboard never reaches {locator}")

    async def shot(self, name: str, full_page: bool = True) -> None:
        await self.page.screenshot(
            path=str(self.shots / f"{self.who}-{name}.png"), full_page=full_page
        )

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors


def username(api: factories.Api) -> str:
    return str(api.user["username"])


def expect() -> Any:
    from playwright.async_api import expect as expect_

    # Ten seconds for a page to reach what it should show: the suite shares two cores with
    # its own servers and browsers, and a page that never gets there still fails.
    expect_.set_options(timeout=10_000)
    return expect_
