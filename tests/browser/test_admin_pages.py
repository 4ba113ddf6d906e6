"""Staff pages in a real browser (Debian's Chromium via Playwright), logged in through
the admin's own login page, at a laptop's 1280 x 800: a pause and the categories shown
on the subscriber page after the action, a feed added twice refused with the name of
the source that has it, and the source list fitting the screen. Screenshots of the
subscriber page and the source list (`make screenshots` keeps them in docs/screenshots/)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from digest.models import Source
from subscriptions.models import Interest, Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_page(page: Page, live_server) -> Page:
    """A staff member logged in through the login page, on a 1280 x 800 screen."""
    get_user_model().objects.create_superuser("editor", "editor@example.com", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    return page


def test_a_pause_and_the_categories_show_on_the_subscriber_page(
    staff_page: Page, live_server, ingested_papers, screenshot
):
    page = staff_page
    ada = Subscriber.objects.create(
        email="ada@example.com", status=Subscriber.Status.ACTIVE, categories=["cs.LG", "stat.ML"]
    )
    for text in ("anomaly detection", "anomaly detecton"):
        Interest.objects.create(subscriber=ada, text=text)

    page.goto(f"{live_server.url}/admin/subscriptions/subscriber/")
    page.get_by_role("row", name="ada@example.com").get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Pause for 4 weeks")
    page.get_by_role("button", name="Go").click()

    ada.refresh_from_db()
    until = f"{ada.paused_until:%Y-%m-%d}"
    expect(page.locator(".messagelist")).to_contain_text(f"Paused 1 subscriber(s) until {until}")
    page.get_by_role("link", name="ada@example.com").click()
    expect(page.get_by_label("Paused until")).to_have_value(until)
    expect(page.get_by_label("Machine learning (cs.LG)")).to_be_checked()
    expect(page.get_by_label("Statistics, machine learning (stat.ML)")).to_be_checked()
    expect(page.get_by_label("Computer vision (cs.CV)")).not_to_be_checked()
    # What each interest found lately, as the signup and manage pages tell it.
    report = page.locator("table.interest-report")
    expect(report).to_contain_text("Performance Anomaly Detection")
    expect(report).to_contain_text("did you mean “anomaly detection”?")
    screenshot(page, "admin-subscriber.png")


def test_a_feed_added_twice_is_refused_and_the_source_list_fits_the_screen(
    staff_page: Page, live_server, screenshot
):
    page = staff_page
    fetched = timezone.now() - timedelta(hours=2)
    Source.objects.update_or_create(
        name="arXiv cs.LG",
        defaults={
            "url": "https://rss.arxiv.org/rss/cs.LG",
            "last_status": Source.Status.OK,
            "last_fetched_at": fetched,
        },
    )
    Source.objects.get_or_create(
        name="Hugging Face daily papers",
        defaults={"url": "https://huggingface.co/api/daily_papers", "kind": "hf_daily"},
    )
    Source.objects.create(
        name="A journal with a long name that goes on and on, as journal names do",
        url="https://journal.example/feeds/latest-articles.rss",
        kind="feed",
        last_status=Source.Status.ERROR,
        last_fetched_at=fetched,
        consecutive_failures=3,
        last_error="the feed could not be read: HTTP 503 from journal.example; " * 4,
    )

    page.goto(f"{live_server.url}/admin/digest/source/add/")
    page.get_by_label("URL").fill("http://rss.arxiv.org/rss/cs.LG/")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errorlist")).to_have_text(
        "This feed is a source already: “arXiv cs.LG” (https://rss.arxiv.org/rss/cs.LG)."
    )
    assert Source.objects.filter(url__contains="cs.LG").count() == 1

    page.goto(f"{live_server.url}/admin/digest/source/")
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    width = table.evaluate("table => table.scrollWidth")
    room = page.locator("#changelist .results").evaluate("area => area.clientWidth")
    assert width <= room, f"the table is {width} px wide in {room} px"
    for column in ("papers", "last error"):
        header = page.locator("#result_list thead th", has_text=column).first.bounding_box()
        assert header["x"] + header["width"] <= 1280
    screenshot(page, "admin-sources.png")
