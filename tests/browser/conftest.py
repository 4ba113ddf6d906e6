"""A real browser for the page tests: Debian's Chromium driven by Playwright (no
browser download), against Django's live server, and screenshots that only
`make screenshots` keeps (in docs/screenshots/); a test run leaves the tree as it was."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Locator, Page, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# How long a step or an expectation waits: a page's first answer in a test process
# builds the sample's index (seconds on a busy 2-core machine), so expect() waits as
# long as a page step does rather than its own 5 s.
STEP_TIMEOUT_MS = 10_000
expect.set_options(timeout=STEP_TIMEOUT_MS)
# The flags that keep Chromium off the network and quiet in a sandbox-less CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_context(live_server, settings, tmp_path, monkeypatch) -> Iterator:
    """(playwright, browser) against the live server, email in an outbox of the test's own."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # this test makes between browser steps are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SITE_URL = live_server.url
    settings.DEBUG = True  # the /outbox/ pages
    settings.EMAIL_BACKEND = "config.outbox.EmailBackend"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield playwright, browser
        browser.close()
        # Inside Playwright's greenlet the ORM opened a connection of its own:
        # close it, or the test database cannot be dropped at the end.
        connections.close_all()


@pytest.fixture
def page(browser_context) -> Page:
    playwright, browser = browser_context
    page = browser.new_page(viewport={"width": 900, "height": 1000})
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.playwright = playwright  # for a cookie-less request context
    return page


@pytest.fixture
def screenshot(tmp_path) -> Callable[..., Path]:
    """screenshot(page, "name.png"): a full-page screenshot (of a locator: that part of
    the page), kept in docs/screenshots/ when SCREENSHOTS_DIR says so (`make
    screenshots`), else in the test's own folder."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path / "screenshots")

    def take(target: Page | Locator, name: str, **options) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if isinstance(target, Locator):
            target.screenshot(path=path, **options)
        else:
            target.screenshot(path=path, full_page=True, **options)
        return path

    return take
