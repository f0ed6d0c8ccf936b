"""Fixtures of the browser tests: one Debian chromium per test module, a fresh page per test."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chromium import CHROMIUM, CHROMIUM_ARGS, Page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Page]:
    """A fresh page on the module's server (``base_url`` comes from the webapp_fixtures plugin)."""
    p = Page(browser, base_url)
    yield p
    p.context.close()
