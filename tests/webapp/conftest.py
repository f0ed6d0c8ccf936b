"""Fixtures of the browser tests: one Debian chromium per test module."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chromium import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
