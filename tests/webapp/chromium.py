"""Debian's chromium driven by Playwright: where it is, how it starts, and a page on the app that records
dialogs and page errors.  The ``browser`` fixture is in tests/webapp/conftest.py."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from common import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000  # generous: CI machines have 2 cores
expect.set_options(timeout=TIMEOUT_MS)
UPDATE_SCREENSHOTS = os.environ.get("ERQI_UPDATE_SCREENSHOTS") == "1"  # opt-in: overwrite the committed ones
DOCS = REPO / "docs"

NEEDS_CHROMIUM = [  # a browser test module's pytestmark
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Debian chromium not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk "
        "fonts-noto-color-emoji)",
    ),
]


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def photograph(target, name: str, tmp_path: Path, min_bytes: int = 10_000, **options) -> Path:
    """A screenshot of the page or an element: into docs/ only when asked to update them."""
    tracked = DOCS / name
    before = _digest(tracked)
    shot = tracked if UPDATE_SCREENSHOTS else tmp_path / name
    target.screenshot(path=str(shot), **options)
    assert shot.stat().st_size > min_bytes
    if not UPDATE_SCREENSHOTS:
        assert _digest(tracked) == before, "a test run never writes a tracked screenshot"
    return shot


class Page:
    """A Playwright page on the app, recording dialogs (alert/confirm) and page errors."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url + "/", wait_until="domcontentloaded")
        self.page.wait_for_selector("#question-box textarea")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ask(self, question: str):
        """Type a question, press Enter, and return the locator of its sources block (earlier answers must be
        complete)."""
        before = self.page.locator("#chat .thought-group").count()
        self.page.fill("#question-box textarea", question)
        self.page.keyboard.press("Enter")
        self.page.locator("#chat .thought-group").nth(before).wait_for()
        return self.page.locator("#chat .thought-group").nth(before)

    def choose_file(self, path: Path) -> None:
        """Put a file in the documents tab's upload widget and wait until it is uploaded, listed as a row.

        Not by waiting for its name as text: the name stands in one piece (「侯寨公园.md」) only in the progress
        view while the file uploads; the row lists it as stem and suffix (「侯寨公园 .md」). On a loaded machine the
        upload can finish before a wait for the text starts, which then never sees it (a 30 s timeout)."""
        self.page.locator("#upload-files input[type=file]").set_input_files(str(path))
        self.page.locator("#upload-files").get_by_label(path.name, exact=True).wait_for()

    def bot_texts(self) -> list[str]:
        return self.page.locator("#chat .message.bot").all_inner_texts()
