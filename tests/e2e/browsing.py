"""One person's browser tab on the real app, for the page tests.

The browser and the server share one fixed time (the server's FakeClock and Playwright's
clock), in the Asia/Aqtobe time zone (UTC+5), so "today" and the local times on a page are
known. The fixtures that open tabs live in tests/e2e/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
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


class Browsing:
    """One person's browser tab, with the console watched for errors."""

    def __init__(self, page: Any, base_url: str, shots: Path, who: str) -> None:
        self.page = page
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

    async def login(self, username: str) -> None:
        page = self.page
        await page.goto(self.base_url)
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill(factories.PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("button", name="Log out").wait_for()

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

    return expect_
