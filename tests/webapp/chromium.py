"""Debian's chromium driven by Playwright: where it is, how it starts, and a page on the app that records
dialogs and page errors.  The ``browser`` fixture is in tests/webapp/conftest.py."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000  # generous: CI machines have 2 cores
expect.set_options(timeout=TIMEOUT_MS)


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
