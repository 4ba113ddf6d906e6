"""Source health in a real browser, on a Saturday (the next one, so the login's cookie is
still good in the browser's own clock): a stale source warned of on the admin's index
and found by the list's health filter beside a quiet one, and the public /status/
page. Screenshots of all three (`make screenshots` keeps them in docs/screenshots/)."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from digest.models import Source

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def saturday() -> Iterator[datetime]:
    today = timezone.now().date()
    day = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    noon = datetime.combine(day, time(12, 0), tzinfo=UTC)
    with time_machine.travel(noon, tick=True):
        yield noon


@pytest.fixture
def sources(saturday: datetime) -> None:
    Source.objects.all().delete()
    friday_morning = saturday - timedelta(hours=26)
    for category in ("cs.LG", "cs.AI"):  # Thursday's announcement in: a quiet weekend
        Source.objects.create(
            name=f"arXiv {category}",
            url=f"https://rss.arxiv.org/rss/{category}",
            last_status=Source.Status.OK,
            last_fetched_at=saturday - timedelta(hours=2),
            last_success_at=saturday - timedelta(hours=2),
            content_changed_at=friday_morning,
            last_summary="0 new, 0 updated, 0 unchanged",
        )
    Source.objects.create(  # still Tuesday's batch
        name="arXiv cs.CL",
        url="https://rss.arxiv.org/rss/cs.CL",
        last_status=Source.Status.NOT_MODIFIED,
        last_fetched_at=saturday - timedelta(hours=2),
        last_success_at=saturday - timedelta(hours=2),
        content_changed_at=saturday - timedelta(days=4),
    )


@pytest.fixture
def staff_page(page: Page, live_server, sources) -> Page:
    get_user_model().objects.create_superuser("editor", "editor@example.com", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    return page


def test_staff_are_warned_of_the_stale_source_and_find_it_by_the_filter(
    staff_page: Page, live_server, screenshot
):
    page = staff_page
    warning = page.locator("#stale-sources")
    expect(warning).to_contain_text("1 source stale: arXiv cs.CL, stale since")
    expect(warning).not_to_contain_text("cs.LG")
    screenshot(page, "admin-stale-warning.png", clip={"x": 0, "y": 0, "width": 1280, "height": 420})

    page.get_by_role("link", name="See them").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("arXiv cs.CL")

    page.goto(f"{live_server.url}/admin/digest/source/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="arXiv cs.LG").locator(".field-health_now")).to_have_text("quiet")
    expect(rows.filter(has_text="arXiv cs.CL").locator(".field-health_now")).to_have_text("stale")
    screenshot(page, "admin-source-health.png")


def test_anyone_sees_each_sources_last_fetch_and_state_on_the_status_page(
    page: Page, live_server, sources, screenshot
):
    page.goto(f"{live_server.url}/status/")
    table = page.locator("table.status")
    expect(table.locator("tr.state-quiet")).to_have_count(2)
    expect(table.locator("tr.state-stale")).to_contain_text("arXiv cs.CL")
    expect(table.locator("tr.state-stale")).to_contain_text("expected then has not come")
    expect(table).to_contain_text("quiet (no announcement expected)")
    screenshot(page, "status.png")
