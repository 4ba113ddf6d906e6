"""A reader says "more like this" from a digest in the outbox, in a real browser:
the link's page asks (a mail gateway's scanner opening the same link records
nothing), the button records, the answer undoes it, and the page of what the reader
marked removes it (issue 15)."""

import pytest
from playwright.sync_api import Page, expect

from digest import tasks
from digest.models import Feedback

pytestmark = pytest.mark.django_db(transaction=True)


def test_more_like_this_from_the_digest_recorded_undone_and_removed(
    page: Page, live_server, ingested_papers, make_subscriber
):
    base = live_server.url
    subscriber = make_subscriber(email="reader@example.com", interests=("anomaly detection",))
    tasks.dispatch_digests()
    page.goto(f"{base}/outbox/")
    page.get_by_role("link", name="new papers on your topics").first.click()
    page.get_by_text("Plain-text part").click()
    more = page.locator('a[href*="/feedback/e"][href$="/more/"]').first
    url = more.get_attribute("href")

    # A mail gateway's scanner opens every link of the message, without cookies.
    scanner = page.playwright.request.new_context()
    assert scanner.get(url).status == 200
    assert scanner.head(url).status == 200
    scanner.dispose()
    assert not Feedback.objects.exists()

    more.click()
    expect(page.get_by_role("heading", name="More like this?")).to_be_visible()
    assert not Feedback.objects.exists()
    page.get_by_role("button", name="Yes, more like this").click()
    expect(page.get_by_role("heading", name="Recorded: more like this")).to_be_visible()
    feedback = Feedback.objects.get()
    assert (feedback.subscriber_id, feedback.value) == (subscriber.pk, 1)
    title = feedback.paper.title

    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Undone")
    assert not Feedback.objects.exists()

    page.get_by_role("button", name="Yes, more like this").click()
    page.get_by_role("link", name="Everything you marked").click()
    expect(page.get_by_role("heading", name="What you marked")).to_be_visible()
    expect(page.get_by_role("heading", name="More like this (1)")).to_be_visible()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    page.get_by_role("button", name=f"Remove {title}").click()
    expect(page.get_by_role("status")).to_contain_text("Removed 1 paper.")
    expect(page.get_by_role("heading", name="More like this (0)")).to_be_visible()
    assert not Feedback.objects.exists()
