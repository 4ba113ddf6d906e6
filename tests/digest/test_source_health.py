"""Source health end to end: recorded arXiv feeds fetched over HTTP at pinned times, the
error logged once per stale spell, the admin's filter and warning, /status/, and the
digest's line about a stale source."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from digest import compose, health, ingest, sending, staff_preview
from digest.models import Delivery, Source
from subscriptions.models import Subscriber
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _feeds_served_locally(settings):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.FETCH_INTERVAL_MINUTES = 180
    settings.SOURCE_STALE_GRACE_MINUTES = 360
    Source.objects.all().delete()  # the default sources would go to the internet


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def built_on(feed: bytes, build_date: str) -> bytes:
    """A recorded feed as arXiv serves it again on another day: only its build date moves."""
    return re.sub(
        rb"<lastBuildDate>[^<]*</lastBuildDate>",
        f"<lastBuildDate>{build_date}</lastBuildDate>".encode(),
        feed,
    )


class Feed:
    """One arXiv source, fetched over HTTP from a local server at the times given."""

    def __init__(self, name: str = "arXiv cs.LG") -> None:
        self.source = Source.objects.create(name=name, url="http://unused/", kind="arxiv_rss")

    def fetch_at(self, moment: str, body: bytes) -> ingest.FetchOutcome:
        with serve() as server:
            self.source.url = server.url("/rss/cs.LG", Route(body=body))
            self.source.save(update_fields=["url"])
            with time_machine.travel(utc(moment), tick=False):
                return ingest.fetch_source(self.source)

    def state_at(self, moment: str):
        self.source.refresh_from_db()
        return health.health_of(self.source, utc(moment))


def test_a_weekday_feed_with_the_new_announcement_is_fresh(fixture_bytes):
    feed = Feed()
    weekend = fixture_bytes("arxiv-rss-empty-weekend.xml")
    feed.fetch_at("2026-04-26T15:00", built_on(weekend, "Sun, 26 Apr 2026 04:00:01 +0000"))
    # Mon 27 Apr 2026: Sunday evening's announcement, as recorded.
    outcome = feed.fetch_at("2026-04-27T10:00", fixture_bytes("arxiv-rss-2026-cs.LG.xml"))

    assert str(outcome) == "3 new, 0 updated, 0 unchanged"
    assert feed.source.content_changed_at == utc("2026-04-27T10:00")
    assert feed.source.feed_built_at == utc("2026-04-27T04:00:01")
    assert feed.source.schedule_hints == {"skip_days": [5, 6]}
    assert feed.state_at("2026-04-27T10:00").label == "fresh"
    assert feed.state_at("2026-04-28T12:00").label == "fresh"  # Monday's is within its grace


def test_on_a_saturday_the_empty_feed_is_quiet(fixture_bytes):
    feed = Feed()
    thursdays = built_on(
        fixture_bytes("arxiv-rss-2026-cs.LG.xml"), "Fri, 24 Apr 2026 04:00:01 +0000"
    )
    feed.fetch_at("2026-04-24T10:00", thursdays)
    # Sat 25 Apr 2026, as recorded: the channel and its skipDays, no items.
    outcome = feed.fetch_at("2026-04-25T12:00", fixture_bytes("arxiv-rss-empty-weekend.xml"))

    assert str(outcome) == "0 new, 0 updated, 0 unchanged"
    assert feed.state_at("2026-04-25T12:00").label == "quiet (no announcement expected)"
    assert feed.state_at("2026-04-26T23:00").label == "quiet (no announcement expected)"


def test_on_an_arxiv_holiday_the_empty_feed_is_quiet(fixture_bytes):
    feed = Feed("arXiv cs.CL")
    wednesdays = built_on(
        fixture_bytes("arxiv-rss-2026-cs.CL.xml"), "Thu, 26 Nov 2026 05:00:02 +0000"
    )
    feed.fetch_at("2026-11-26T12:00", wednesdays)
    # Thanksgiving: no announcement on Thursday evening, so Friday's feed is empty.
    friday = built_on(
        fixture_bytes("arxiv-rss-empty-weekend.xml"), "Fri, 27 Nov 2026 05:00:01 +0000"
    )
    feed.fetch_at("2026-11-27T16:00", friday)

    assert feed.state_at("2026-11-27T16:00").label == "quiet (no announcement expected)"
    assert Source.objects.get().stale_reported_at is None


def test_a_feed_serving_the_same_batch_again_under_a_new_build_date_is_stale(fixture_bytes):
    feed = Feed()
    mondays = fixture_bytes("arxiv-rss-2026-cs.LG.xml")
    feed.fetch_at("2026-04-27T10:00", mondays)
    # Wednesday: rebuilt, and still Monday's papers (the stuck feed arXiv has served).
    feed.fetch_at("2026-04-29T14:00", built_on(mondays, "Wed, 29 Apr 2026 04:00:01 +0000"))

    state = feed.state_at("2026-04-29T14:00")
    assert state.label == "stale since Mon 27 Apr 2026, 20:00 EDT"
    assert state.reason == "arXiv's announcement expected then has not come"
    assert feed.source.content_changed_at == utc("2026-04-27T10:00")
    assert feed.source.feed_built_at == utc("2026-04-29T04:00:01")


def test_a_stale_spell_is_logged_as_an_error_once_and_again_only_after_it_ended(
    fixture_bytes, caplog
):
    feed = Feed()
    mondays = fixture_bytes("arxiv-rss-2026-cs.LG.xml")
    feed.fetch_at("2026-04-27T10:00", mondays)
    caplog.set_level(logging.INFO, logger="digest.health")

    for moment in ("2026-04-29T14:00", "2026-04-29T17:00", "2026-04-29T20:00"):
        feed.fetch_at(moment, mondays)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert (
        errors[0]
        .getMessage()
        .startswith(
            "source arXiv cs.LG is stale since Mon 27 Apr 2026, 20:00 EDT: arXiv's announcement"
        )
    )
    assert Source.objects.get().stale_reported_at == utc("2026-04-29T14:00")

    # Thursday's batch comes: the spell is over; a later one is logged anew.
    feed.fetch_at("2026-04-30T10:00", fixture_bytes("arxiv-rss-2026-cs.CL.xml"))
    assert Source.objects.get().stale_reported_at is None
    assert "source arXiv cs.LG is fresh again" in caplog.text
    feed.fetch_at("2026-05-01T10:00", mondays)  # Thursday's, a batch unlike Wednesday's
    feed.fetch_at("2026-05-02T10:00", fixture_bytes("arxiv-rss-empty-weekend.xml"))  # quiet
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    feed.fetch_at("2026-05-04T15:00", fixture_bytes("arxiv-rss-empty-weekend.xml"))  # Monday
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "stale since Sun 3 May 2026, 20:00 EDT" in errors[1].getMessage()


def test_a_source_that_cannot_be_fetched_at_all_goes_stale_too(fixture_bytes):
    feed = Feed()
    feed.fetch_at("2026-04-27T10:00", fixture_bytes("arxiv-rss-2026-cs.LG.xml"))
    with serve() as server:
        feed.source.url = server.url("/rss/cs.LG", Route(status=503))
        feed.source.save(update_fields=["url"])
        with time_machine.travel(utc("2026-04-28T14:00"), tick=False):
            ingest.fetch_source(feed.source)

    feed.source.refresh_from_db()
    assert feed.source.last_status == "error"
    assert feed.state_at("2026-04-28T14:00").state == "stale"
    assert feed.source.stale_reported_at == utc("2026-04-28T14:00")


def a_stale_and_a_quiet_source(now: datetime) -> tuple[Source, Source]:
    """arXiv cs.LG without news for five days (an announcement missed whatever the day),
    and a lab's feed read an hour ago."""
    stale = Source.objects.create(
        name="arXiv cs.LG",
        url="https://rss.arxiv.org/rss/cs.LG",
        kind="arxiv_rss",
        last_success_at=now - timedelta(hours=1),
        content_changed_at=now - timedelta(days=5),
        last_error="HTTP 503 from https://intranet-mirror.example/rss",
    )
    fine = Source.objects.create(
        name="Lab blog",
        url="https://lab.example.org/feed.xml",
        kind="feed",
        last_success_at=now - timedelta(hours=1),
        content_changed_at=now - timedelta(hours=1),
    )
    return stale, fine


def test_the_admin_filters_stale_sources_and_warns_of_them_on_its_index(admin_client):
    stale, fine = a_stale_and_a_quiet_source(timezone.now())
    Source.objects.create(name="Off", url="https://rss.arxiv.org/rss/hep-th", enabled=False)

    listed = admin_client.get(reverse("admin:digest_source_changelist") + "?health=stale")
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [stale]
    fresh = admin_client.get(reverse("admin:digest_source_changelist") + "?health=fresh")
    assert list(fresh.context["cl"].result_list) == [fine]
    everything = admin_client.get(reverse("admin:digest_source_changelist"))
    assert '<strong title="stale since' in everything.content.decode()

    index = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="stale-sources"' in index
    assert "1 source stale:" in index
    assert (
        f'href="{reverse("admin:digest_source_change", args=[stale.pk])}">arXiv cs.LG</a>' in index
    )
    assert "Lab blog" not in index

    stale.delete()
    assert 'id="stale-sources"' not in admin_client.get(reverse("admin:index")).content.decode()


def test_the_status_page_shows_every_sources_last_fetch_and_state_to_anyone(client):
    now = timezone.now()
    a_stale_and_a_quiet_source(now)

    page = client.get("/status/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "arXiv cs.LG" in text and "Lab blog" in text
    assert re.search(
        r"<strong>stale since [A-Z][a-z]{2} \d+ [A-Z][a-z]{2} \d{4}, 20:00 E[SD]T</strong>", text
    )
    assert ">fresh<" in text
    assert f"{now - timedelta(hours=1):%a %-d %b, %H:%M} UTC" in text
    # Nothing staff-only: no feed addresses, no errors.
    assert "intranet-mirror" not in text and "lab.example.org" not in text
    assert "public" in page["Cache-Control"]

    data = client.get("/status.json").json()
    states = {row["name"]: (row["state"], row["label"]) for row in data["sources"]}
    assert states["Lab blog"] == ("fresh", "fresh")
    assert states["arXiv cs.LG"][0] == "stale"
    assert set(data["sources"][0]) == {
        "name",
        "kind",
        "state",
        "label",
        "reason",
        "last_success_at",
        "changed_at",
    }


def test_a_digest_sent_while_its_source_is_stale_says_so_in_one_line(
    make_subscriber, ingested_papers
):
    now = timezone.now()
    a_stale_and_a_quiet_source(now)
    line = (
        f"arXiv cs.LG has not updated since {now - timedelta(days=5):%A}; this digest may be short."
    )
    reader = make_subscriber(categories=["cs.LG"])
    elsewhere = make_subscriber(email="bo@example.com", categories=["astro-ph"])
    everything = make_subscriber(email="cy@example.com")

    sending.send_chunk([reader.pk, elsewhere.pk, everything.pk], now)

    notes = dict(Delivery.objects.values_list("subscriber__email", "source_note"))
    assert notes == {"ada@example.com": line, "bo@example.com": "", "cy@example.com": line}
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {"ada@example.com", "cy@example.com"}  # nothing in astro-ph
    message = sent["ada@example.com"]
    assert line in message.body
    assert line in message.alternatives[0][0]
    delivery = Delivery.objects.get(subscriber=reader)
    assert line in compose.web_copy_html(delivery)


def test_a_digest_sent_while_its_sources_are_up_to_date_says_nothing_of_them(
    make_subscriber, ingested_papers
):
    now = timezone.now()
    stale, _ = a_stale_and_a_quiet_source(now)
    stale.content_changed_at = now - timedelta(hours=1)
    stale.save()
    make_subscriber(categories=["cs.LG"])

    sending.send_chunk([s.pk for s in Subscriber.objects.all()], now)

    assert Delivery.objects.get().source_note == ""
    assert "may be short" not in mail.outbox[0].body
    assert "may be short" not in mail.outbox[0].alternatives[0][0]


def test_a_test_digest_says_what_the_subscribers_would_of_a_stale_source(
    make_subscriber, ingested_papers
):
    now = timezone.now()
    a_stale_and_a_quiet_source(now)
    subscriber = make_subscriber(categories=["cs"])

    message = staff_preview.build_test_digest(
        subscriber, sending.preview(subscriber, now), "editor@example.com"
    )

    assert "arXiv cs.LG has not updated since" in message.body
    assert "arXiv cs.LG has not updated since" in message.alternatives[0][0]


def test_a_feed_without_announcements_is_said_stale_since_its_last_good_read():
    now = timezone.now()
    blog = Source.objects.create(
        name="Lab blog",
        url="https://lab.example.org/feed.xml",
        kind="feed",
        last_success_at=now - timedelta(days=2),
        content_changed_at=now - timedelta(days=90),  # it posts seldom, and that is fine
    )

    stale = health.stale_sources(now)

    assert [source for source, _ in stale] == [blog]
    assert health.digest_note([], "UTC", stale, now) == (
        f"Lab blog has not updated since {now - timedelta(days=2):%A}; this digest may be short."
    )
