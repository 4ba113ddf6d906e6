"""Issue 15's promise in a real browser, on the bundled sample (what `make run`
loads): a reader's digest in the outbox shows the day's trending papers with their
upvotes; "more like this" on one of its papers, confirmed, makes the manage page's
preview suggest papers like it that no keyword caught, with the reason."""

import pytest
from playwright.sync_api import Page, expect

from digest import demo, tasks
from digest.models import Feedback, ReaderModel

pytestmark = pytest.mark.django_db(transaction=True)


def test_more_like_this_in_the_outbox_changes_the_next_preview(
    page: Page, live_server, make_subscriber, screenshot
):
    demo.load_sample()
    make_subscriber(email="reader@example.com", interests=("quantum error correction", "trending"))
    tasks.dispatch_digests()

    page.goto(f"{live_server.url}/outbox/")
    page.get_by_role("link", name="new papers on your topics").first.click()
    email = page.frame_locator("iframe")  # the HTML part, as a mail client shows it
    expect(email.get_by_text("trending on Hugging Face · ▲").first).to_be_visible()
    manage_url = email.locator('a[href*="/manage/"]').first.get_attribute("href")

    page.goto(manage_url)
    preview = page.locator("[data-live-preview]")
    expect(preview).to_contain_text("quantum error correction")
    expect(preview).not_to_contain_text("Suggested for you")

    page.go_back()
    page.get_by_text("Plain-text part").click()
    # The first paper the keywords found (the trending ones come first).
    more = page.locator('a[href*="/feedback/e"][href$="/more/"]')
    more.nth(more.count() - 1).click()
    page.get_by_role("button", name="Yes, more like this").click()
    expect(page.get_by_role("heading", name="Recorded: more like this")).to_be_visible()
    liked = Feedback.objects.get().paper
    assert ReaderModel.objects.filter(subscriber__email="reader@example.com").exists()

    page.goto(manage_url)
    expect(preview).to_contain_text("Suggested for you, from what you marked:")
    reasons = page.locator(".suggested-papers .suggested-reason")
    expect(reasons.first).to_contain_text(f'like "{" ".join(liked.title.split())}" you liked')
    screenshot(preview, "manage-suggested.png")
