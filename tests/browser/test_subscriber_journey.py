"""A person's way through the site, in a real browser (Debian's Chromium via Playwright):
sign up, read the confirmation in the outbox, confirm, read the first digest,
unsubscribe from the link in it."""

import os

import pytest
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from subscriptions.models import Subscriber

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
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

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(live_server, settings, tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # this test makes between browser steps are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SITE_URL = live_server.url
    settings.DEBUG = True  # the /outbox/ pages
    settings.EMAIL_BACKEND = "config.outbox.EmailBackend"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()
        # Inside Playwright's greenlet the ORM opened a connection of its own:
        # close it, or the test database cannot be dropped at the end.
        connections.close_all()


def _open_newest_email(page: Page, base: str, subject_part: str) -> None:
    page.goto(f"{base}/outbox/")
    page.get_by_role("link", name=subject_part).first.click()
    page.get_by_text("Plain-text part").click()


def test_sign_up_confirm_read_the_digest_and_unsubscribe(page: Page, live_server, ingested_papers):
    base = live_server.url
    page.goto(f"{base}/")
    page.get_by_label("Email address").fill("reader@example.com")
    page.get_by_label("Your interests").fill("anomaly detection\n?!?")
    page.get_by_label("Weekly (Mondays)").check()
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("alert")).to_contain_text("Line 2:")
    expect(page.get_by_role("alert")).to_contain_text("has no letters or digits to look for")
    page.get_by_label("Your interests").fill("anomaly detection\nlanguage models")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    _open_newest_email(page, base, "Confirm your Paperboy subscription")
    page.get_by_role("link", name="/confirm/").click()
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    page.get_by_role("button", name="Yes, send me digests").click()
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    expect(page.get_by_text("every Monday")).to_be_visible()

    _open_newest_email(page, base, "new papers on your topics")
    digest = page.frame_locator("iframe.email-frame")
    expect(digest.get_by_role("link", name="Performance Anomaly Detection")).to_be_visible()
    expect(digest.get_by_text("matched: anomaly detection").first).to_be_visible()
    page.get_by_role("link", name="/unsubscribe/").click()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()

    subscriber = Subscriber.objects.get(email="reader@example.com")
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.frequency == Subscriber.Frequency.WEEKLY
