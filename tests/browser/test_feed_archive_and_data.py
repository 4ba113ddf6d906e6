"""The manage page's feed, past digests and data, in a real browser: a subscriber finds
their feed's address there (feedparser reads it), renews it, searches the papers they
were sent, downloads their export and imports interests from a file. Screenshots of
the page's new parts (`make screenshots` writes them to docs/screenshots/)."""

import json

import feedparser
import pytest
from playwright.sync_api import Page, expect

from digest import tasks
from subscriptions import feeds, tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_feed_the_archive_and_the_data_on_the_manage_page(
    page: Page, live_server, ingested_papers, make_subscriber, screenshot, tmp_path
):
    subscriber = make_subscriber(interests=("anomaly detection",))
    feeds.renew(subscriber)
    tasks.dispatch_digests()
    page.goto(live_server.url + f"/manage/{tokens.make_token(tokens.MANAGE, subscriber.pk)}/")

    feed_url = page.locator("[data-feed-url]").input_value()
    assert feed_url.startswith(f"{live_server.url}/feed/")
    answer = page.playwright.request.new_context().get(feed_url)
    parsed = feedparser.parse(answer.body())
    assert answer.status == 200 and not parsed.bozo
    assert {entry.title for entry in parsed.entries} >= {
        "Performance Anomaly Detection in Athletics: A Benchmarking System with Visual Analytics"
    }
    expect(page.locator("#archive")).to_contain_text("2 papers: Performance Anomaly Detection")
    screenshot(page.locator("#feed"), "manage-feed.png")

    # A new address: the old one stops working.
    page.get_by_role("button", name="New address").click()
    expect(page.get_by_role("status")).to_contain_text("a new address")
    assert page.locator("[data-feed-url]").input_value() != feed_url
    assert page.playwright.request.new_context().get(feed_url).status == 404

    # The export, downloaded as a file.
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    export = json.loads(download.value.path().read_text())
    assert [i["text"] for i in export["interests"]] == ["anomaly detection"]

    # Interests from a text file; a bad line is named.
    bad = tmp_path / "bad.txt"
    bad.write_text('LLM agents\n"never closed\n')
    page.get_by_label("Import interests").set_input_files(bad)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("[data-import-errors]")).to_contain_text(
        "Line 2: This quote is never closed"
    )
    good = tmp_path / "good.txt"
    good.write_text("LLM agents\nquantum error correction\n")
    page.get_by_label("Import interests").set_input_files(good)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 2 new interests")
    assert [i.text for i in Subscriber.objects.get().interests.all()] == [
        "anomaly detection",
        "LLM agents",
        "quantum error correction",
    ]
    screenshot(page.locator("#your-data"), "manage-your-data.png")

    # Search the papers one was sent.
    page.get_by_label("Search the papers you were sent").fill("athletics")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Your past digests")).to_be_visible()
    expect(page.locator("ul.found li")).to_have_count(1)
    expect(page.locator("ul.found")).to_contain_text("Performance Anomaly Detection in Athletics")
    screenshot(page, "archive-search.png")
    # Its digest's web copy.
    page.locator("ul.found .hint a").first.click()
    expect(page.get_by_text("Your digest for")).to_be_visible()
