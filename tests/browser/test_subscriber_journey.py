"""A person's way through the site, in a real browser (Debian's Chromium via Playwright):
sign up (with the live preview), read the confirmation in the outbox, confirm, read
the first digest, change interests on the manage page, unsubscribe there and by
the one-click POST a mail provider sends. Screenshots of the signup and manage
pages (`make screenshots` writes them to docs/screenshots/)."""

import pytest
from playwright.sync_api import Page, expect

from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)


def _open_newest_email(page: Page, base: str, subject_part: str) -> None:
    page.goto(f"{base}/outbox/")
    page.get_by_role("link", name=subject_part).first.click()
    page.get_by_text("Plain-text part").click()


def test_sign_up_confirm_read_the_digest_manage_and_unsubscribe(
    page: Page, live_server, ingested_papers, screenshot
):
    base = live_server.url
    page.goto(f"{base}/")
    page.get_by_label("Email address").fill("reader@example.com")
    page.get_by_label("Your interests").fill("anomaly detection\n?!?")
    # The live preview answers while the interests are typed; bad lines say why.
    expect(page.locator("[data-live-preview]")).to_contain_text("has no letters or digits")
    page.get_by_label("Your interests").fill("anomaly detection\nlanguage models")
    # The two anomaly detection papers: the third (accelerating multimodal foundation
    # models) names language models only in passing ("an LLM-aided design approach").
    expect(page.locator("[data-live-preview]")).to_contain_text(
        "2 papers of the last 7 days would have matched"
    )
    expect(page.locator("[data-live-preview]")).to_contain_text("Performance Anomaly Detection")
    page.get_by_label("Weekly (Mondays)").check()
    page.get_by_label("Time zone").fill("Europe/Paris")
    screenshot(page, "signup.png")
    page.get_by_label("Your interests").fill("anomaly detection\n?!?")
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
    unsubscribe_url = page.get_by_role("link", name="/unsubscribe/").get_attribute("href")

    # The manage link in the digest: change interests; an invalid one shows its error.
    page.get_by_role("link", name="/manage/").click()
    expect(page.get_by_role("heading", name="Your digests")).to_be_visible()
    page.get_by_label("Your interests").fill('anomaly detection\n"graph neural')
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Line 2: This quote is never closed")
    page.get_by_label("Your interests").fill("anomaly detection\ngraph neural networks -molecules")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    screenshot(page, "manage.png")
    subscriber = Subscriber.objects.get(email="reader@example.com")
    assert [i.text for i in subscriber.interests.all()] == [
        "anomaly detection",
        "graph neural networks -molecules",
    ]

    # Unsubscribe through the page...
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.frequency == Subscriber.Frequency.WEEKLY

    # ...and as a mail provider does (RFC 8058): a POST with no cookie and no CSRF
    # token, answered 200 without a redirect, as often as it comes.
    provider = page.playwright.request.new_context()
    for _ in range(2):
        response = provider.post(
            unsubscribe_url, form={"List-Unsubscribe": "One-Click"}, max_redirects=0
        )
        assert response.status == 200
    provider.dispose()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
