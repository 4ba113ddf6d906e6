"""What a careful user notices (issue 12), in a real browser: the check-your-inbox page
names the address typed, the unsubscribe page offers a pause or weekly digests, and
the site has an icon. Screenshots of both pages (`make screenshots`)."""

import pytest
from playwright.sync_api import Page, expect

from subscriptions import tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)


def test_check_inbox_names_the_address_typed(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("Reader@Example.com")
    page.get_by_label("Your interests").fill("anomaly detection")
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text("We have sent a message to Reader@example.com.")).to_be_visible()
    assert page.url == f"{live_server.url}/check-your-inbox/"
    screenshot(page, "check-inbox.png")
    # The icon the page links is there.
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{icon}").status == 200


def test_the_unsubscribe_page_can_pause_instead(page: Page, live_server, screenshot):
    subscriber = Subscriber.objects.create(
        email="reader@example.com", status=Subscriber.Status.ACTIVE, time_zone="Europe/Paris"
    )
    page.goto(
        f"{live_server.url}/unsubscribe/{tokens.make_token(tokens.UNSUBSCRIBE, subscriber.pk)}/"
    )
    expect(page.get_by_role("button", name="Weekly instead")).to_be_visible()
    screenshot(page, "unsubscribe.png")

    page.get_by_role("button", name="Pause for 4 weeks").click()

    expect(page.get_by_role("heading", name="Your digests are paused")).to_be_visible()
    expect(page.get_by_text("(Europe/Paris)")).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.paused_until is not None
