"""Fixtures for the browser tests: Chromium, a folder for screenshots, tabs on the app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from teleconsult.clock import FakeClock
from tests.conftest import IN_CI
from tests.e2e.browsing import CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM, NOW, TIMEZONE, Browsing

# Each language's browser locale: the page starts in the browser's language.
LOCALES = {"en": "en-GB", "kk": "kk-KZ", "ru": "ru-RU"}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAS_CHROMIUM:
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: the browser tests may not be skipped in CI")
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
def clock() -> FakeClock:
    """The real time: a call page opens its call by the browser's own clock. (Page tests
    move it to ``NOW``, as their browsers do, through ``open_page``.)"""
    return FakeClock()


# Screenshots of each page in each language, kept after the run: a git-ignored folder of the
# checkout (docs/screenshots/ holds the few the README shows), or TELECONSULT_SCREENSHOT_DIR.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def shots() -> Path:
    folder = Path(os.environ.get("TELECONSULT_SCREENSHOT_DIR") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def open_page(browser: Any, client: Any, clock: Any, shots: Path) -> AsyncIterator[Any]:
    clock.set(NOW)
    contexts: list[Any] = []
    base_url = str(client.make_url("/"))

    async def open_(who: str, *, width: int = 1280, language: str = "en") -> Browsing:
        context = await browser.new_context(
            timezone_id=TIMEZONE,
            locale=LOCALES[language],
            viewport={"width": width, "height": 900},
        )
        contexts.append(context)
        page = await context.new_page()
        await page.clock.set_fixed_time(NOW)
        page.set_default_timeout(10_000)
        return Browsing(page, base_url, shots, who, language)

    yield open_
    for context in contexts:
        await context.close()


# What a page shows does not depend on the engine: the API behind it is tested on both
# engines through HTTP (tests/integration). So a browser test runs on SQLite, and on
# PostgreSQL too only where it says so (marked ``both_engines``: the core journeys of
# test_pages.py) or, for a test run once per language, in Kazakh.
E2E = Path(__file__).parent


def _also_on_postgres(item: pytest.Item) -> bool:
    if item.get_closest_marker("both_engines") is not None:
        return True
    params = getattr(item, "callspec", None)
    return params is not None and params.params.get("language") == "kk"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [
        item
        for item in items
        if E2E in item.path.parents
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database") == "postgres"
        and not _also_on_postgres(item)
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in gone]
