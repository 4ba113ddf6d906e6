"""The private Atom feed: the digests' papers, reasons and highlights at a random URL
that the manage page shows, renews and revokes; conditional GET; feed-only
subscribers, whose digests are recorded and never mailed."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import feedparser
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from digest import ingest, sending, tasks
from digest.models import Delivery
from digest.sources import PaperRecord
from subscriptions import feeds, tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def feed_path(subscriber: Subscriber) -> str:
    return reverse("subscriptions:feed", args=[subscriber.feed_token])


def manage_url(subscriber: Subscriber) -> str:
    return reverse("subscriptions:manage", args=[tokens.make_token(tokens.MANAGE, subscriber.pk)])


@pytest.fixture
def reader(make_subscriber, ingested_papers):
    """A subscriber with a feed and one digest sent (two papers of the recorded feed)."""
    subscriber = make_subscriber(interests=("anomaly detection",))
    feeds.renew(subscriber)
    tasks.dispatch_digests()
    assert len(mail.outbox) == 1
    return subscriber


def test_the_feed_is_valid_atom_with_the_digests_papers_reasons_and_highlights(client, reader):
    response = client.get(feed_path(reader))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)  # well-formed XML, or this raises
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Paperboy: your papers"
    assert root.findtext(f"{ATOM}id").startswith("tag:paperboy.example,2026:feed.")
    assert reader.feed_token not in root.findtext(f"{ATOM}id")
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Paperboy"
    self_link = root.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == f"https://paperboy.example{feed_path(reader)}"

    entries = root.findall(f"{ATOM}entry")
    delivery = Delivery.objects.get(subscriber=reader)
    assert [e.findtext(f"{ATOM}link[@rel='alternate']") for e in entries] == ["", ""]
    links = [e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in entries]
    assert links == [f"https://arxiv.org/abs/{paper_id}" for paper_id in delivery.paper_ids]
    for entry in entries:
        assert entry.findtext(f"{ATOM}id").startswith("urn:uuid:")
        assert RFC3339.match(entry.findtext(f"{ATOM}updated"))
        assert entry.findtext(f"{ATOM}title")
        assert entry.find(f"{ATOM}summary").get("type") == "html"
        assert entry.findall(f"{ATOM}author/{ATOM}name")
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 2
    by_title = {e.findtext(f"{ATOM}title"): e for e in entries}
    athletics = by_title[
        "Performance Anomaly Detection in Athletics: A Benchmarking System with Visual Analytics"
    ]
    summary = athletics.findtext(f"{ATOM}summary")
    assert (
        "<strong>Matched:</strong> anomaly detection (<mark>Anomaly Detection</mark> in the title)"
        in summary
    )
    clinical = by_title[
        "Conditional anomaly detection using soft harmonic functions: "
        "An application to clinical alerting"
    ].findtext(f"{ATOM}summary")
    assert "in the title and abstract" in clinical
    assert "the problem of conditional <mark>anomaly detection</mark> that aims" in clinical
    assert (
        athletics.find(f"{ATOM}link[@rel='related']")
        .get("href")
        .startswith("https://arxiv.org/pdf/2604.21953")
    )


def test_feedparser_reads_the_feed_without_complaint(client, reader):
    parsed = feedparser.parse(client.get(feed_path(reader)).content)

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Paperboy: your papers"
    assert parsed.feed.updated_parsed is not None
    assert len(parsed.entries) == 2
    for entry in parsed.entries:
        assert entry.id.startswith("urn:uuid:")
        assert entry.link.startswith("https://arxiv.org/abs/")
        assert entry.updated_parsed is not None
        assert "Matched:" in entry.summary
        assert entry.authors


def test_the_same_feed_reads_the_same_and_its_entry_ids_stay(client, reader):
    first = client.get(feed_path(reader))
    second = client.get(feed_path(reader))

    assert first.content == second.content
    assert first["ETag"] == second["ETag"]


def test_a_reader_that_has_the_feed_gets_304_by_etag_or_by_date(client, reader):
    first = client.get(feed_path(reader))
    etag, modified = first["ETag"], first["Last-Modified"]

    by_etag = client.get(feed_path(reader), HTTP_IF_NONE_MATCH=etag)
    by_date = client.get(feed_path(reader), HTTP_IF_MODIFIED_SINCE=modified)
    older = http_date((timezone.now() - timedelta(days=30)).timestamp())
    stale = client.get(feed_path(reader), HTTP_IF_MODIFIED_SINCE=older)
    other = client.get(feed_path(reader), HTTP_IF_NONE_MATCH='"something-else"')

    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert by_etag["ETag"] == etag
    assert by_date.status_code == 304
    assert stale.status_code == 200
    assert other.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    assert first["Referrer-Policy"] == "no-referrer"


def test_a_new_digest_changes_the_etag_and_adds_its_papers_first(client, reader, settings):
    first = client.get(feed_path(reader))
    ingest.upsert(
        [
            PaperRecord(
                canonical_id="2604.30001",
                title="Streaming anomaly detection for telescopes",
                abstract="We detect anomalies.",
                abs_url="https://arxiv.org/abs/2604.30001",
                categories=["cs.LG"],
            )
        ]
    )
    # Tomorrow's digest (today's is taken).
    tomorrow = timezone.now() + timedelta(days=1)
    Subscriber.objects.filter(pk=reader.pk).update(next_digest_at=tomorrow)
    assert str(sending.send_digest(reader.pk, tomorrow)) == "sent 1"

    again = client.get(feed_path(reader), HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    parsed = feedparser.parse(again.content)
    assert parsed.entries[0].title == "Streaming anomaly detection for telescopes"
    assert len(parsed.entries) == 3


def test_an_unknown_or_revoked_token_is_404_and_a_renewed_one_replaces_it(client, reader):
    old = feed_path(reader)
    assert client.get(reverse("subscriptions:feed", args=["x" * 43])).status_code == 404
    assert client.get(reverse("subscriptions:feed", args=["short"])).status_code == 404

    feeds.renew(reader)
    assert client.get(old).status_code == 404
    assert client.get(feed_path(reader)).status_code == 200

    feeds.revoke(reader)
    reader.refresh_from_db()
    assert reader.feed_token is None
    assert client.get(old).status_code == 404


def test_the_manage_page_shows_the_feed_and_renews_and_revokes_it_by_post_only(client, reader):
    page = client.get(manage_url(reader)).content.decode()
    assert f"https://paperboy.example{feed_path(reader)}" in page
    old_token = reader.feed_token

    # Only a POST behind the signed manage link changes it; a GET changes nothing.
    client.get(manage_url(reader) + "?action=feed_renew")
    reader.refresh_from_db()
    assert reader.feed_token == old_token

    renewed = client.post(manage_url(reader), {"action": "feed_renew"})
    reader.refresh_from_db()
    assert renewed.status_code == 200
    assert "a new address" in renewed.content.decode()
    assert reader.feed_token not in (None, old_token)
    assert client.get(reverse("subscriptions:feed", args=[old_token])).status_code == 404

    revoked = client.post(manage_url(reader), {"action": "feed_revoke"})
    reader.refresh_from_db()
    assert reader.feed_token is None
    assert "Your feed is off" in revoked.content.decode()
    assert "Make my feed" in revoked.content.decode()

    # A forged post without the signed link is refused, whatever it carries.
    forged = reverse("subscriptions:manage", args=["forged"])
    assert client.post(forged, {"action": "feed_renew"}).status_code == 400
    reader.refresh_from_db()
    assert reader.feed_token is None


def test_confirming_gives_every_subscriber_a_feed(django_capture_on_commit_callbacks, client):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/",
            {
                "email": "feedonly@example.com",
                "interests": "anomaly detection",
                "frequency": "feed",
                "send_hour": "7",
                "time_zone": "UTC",
                "website": "",
            },
        )
    confirm_path = re.search(r"https://paperboy\.example(/confirm/\S+/)", mail.outbox[0].body)[1]
    assert "every day in a private feed (no email)" in client.get(confirm_path).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(confirm_path).content.decode()

    subscriber = Subscriber.objects.get()
    assert subscriber.frequency == Subscriber.Frequency.FEED
    assert subscriber.feed_token
    assert f"https://paperboy.example{feed_path(subscriber)}" in page
    assert len(mail.outbox) == 1  # the confirmation; no digest email


def test_a_feed_only_subscriber_gets_no_email_but_the_digest_in_the_feed(
    client, make_subscriber, ingested_papers
):
    subscriber = make_subscriber(interests=("anomaly detection",), frequency="feed")
    feeds.renew(subscriber)

    outcome = sending.send_digest(subscriber.pk)

    assert str(outcome) == "in feed 1"
    assert mail.outbox == []
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.status == Delivery.Status.FEED
    assert set(delivery.paper_ids) == {"2604.21953", "2604.21956"}
    assert delivery.sent_at is not None and delivery.esp_message_id == ""
    parsed = feedparser.parse(client.get(feed_path(subscriber)).content)
    assert {e.link for e in parsed.entries} == {
        "https://arxiv.org/abs/2604.21953",
        "https://arxiv.org/abs/2604.21956",
    }
    # Its web copy works as any digest's does.
    web = client.get(reverse("web_copy", args=[tokens.make_token(tokens.WEB_COPY, delivery.pk)]))
    assert web.status_code == 200
    assert "Performance <mark>Anomaly Detection</mark>" in web.content.decode()


def test_a_feed_only_digest_is_recorded_once_whatever_runs_it_again(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber(interests=("anomaly detection",), frequency="feed")
    now = timezone.now()

    # A worker claimed the digest and died before recording it.
    held = sending.claim_many([subscriber.pk], now)
    assert len(held.deliveries) == 1
    assert str(sending.send_chunk([subscriber.pk], now)) == "nothing to send"

    time_passes()  # the lease runs out: the reconciler takes it back and records it
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert (delivery.status, len(delivery.items)) == (Delivery.Status.FEED, 2)
    time_passes()
    # The dead worker's late run holds a lost claim and writes nothing.
    assert str(sending.deliver_many(held.deliveries, held.token)) == "taken by another worker 1"
    tasks.dispatch_digests()

    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.status == Delivery.Status.FEED
    assert mail.outbox == []


def test_papers_in_the_feed_are_not_mailed_again_after_switching_to_email(
    make_subscriber, ingested_papers, client
):
    subscriber = make_subscriber(interests=("anomaly detection",), frequency="feed")
    sending.send_digest(subscriber.pk)

    Subscriber.objects.filter(pk=subscriber.pk).update(
        frequency="daily", next_digest_at=timezone.now() + timedelta(days=1)
    )
    sending.send_digest(subscriber.pk, timezone.now() + timedelta(days=1, minutes=1))

    # Nothing new came: the papers the feed had are not mailed.
    assert mail.outbox == []
    assert list(
        Delivery.objects.filter(subscriber=subscriber).order_by("pk").values_list("status")
    ) == [(Delivery.Status.FEED,), (Delivery.Status.EMPTY,)]


def test_a_paused_feed_only_subscriber_gets_nothing_in_the_feed(make_subscriber, ingested_papers):
    subscriber = make_subscriber(
        frequency="feed", paused_until=(timezone.now() + timedelta(days=3)).date()
    )

    sending.send_digest(subscriber.pk)

    assert Delivery.objects.get(subscriber=subscriber).status == Delivery.Status.SKIPPED


def test_the_feed_holds_only_its_own_subscribers_papers_and_escapes_their_text(
    client, make_subscriber
):
    ingest.upsert(
        [
            PaperRecord(
                canonical_id="2604.40001",
                title='Robust <script>alert("x")</script> anomaly detection',
                abstract="An <img src=x onerror=alert(1)> anomaly detection method.",
                abs_url="https://arxiv.org/abs/2604.40001",
                categories=["cs.LG"],
            ),
            PaperRecord(
                canonical_id="2604.40002",
                title="Quantum error correction codes",
                abs_url="https://arxiv.org/abs/2604.40002",
                categories=["quant-ph"],
            ),
        ]
    )
    ada = make_subscriber(interests=("anomaly detection",))
    bob = make_subscriber(email="bob@example.com", interests=("quantum error correction",))
    feeds.renew(ada)
    feeds.renew(bob)
    tasks.dispatch_digests()

    ada_feed = client.get(feed_path(ada)).content
    parsed = feedparser.parse(ada_feed)

    assert [e.link for e in parsed.entries] == ["https://arxiv.org/abs/2604.40001"]
    summary = ET.fromstring(ada_feed).find(f"{ATOM}entry/{ATOM}summary").text
    assert "<script" not in summary and "<img" not in summary
    assert "&lt;img src=x onerror=alert(1)&gt;" in summary
    assert [e.link for e in feedparser.parse(client.get(feed_path(bob)).content).entries] == [
        "https://arxiv.org/abs/2604.40002"
    ]


def test_serving_the_feed_takes_a_few_queries_however_many_digests(
    client, reader, django_assert_max_num_queries
):
    delivery = Delivery.objects.get(subscriber=reader)
    start = delivery.window_end
    for day in range(1, 40):
        Delivery.objects.create(
            subscriber=reader,
            period=f"2026-01-{day:02d}" if day <= 31 else f"2026-02-{day - 31:02d}",
            status=Delivery.Status.SENT,
            window_start=start - timedelta(days=day + 1),
            window_end=start - timedelta(days=day),
            items=delivery.items,
            sent_at=start - timedelta(days=day),
        )

    # The subscriber, the digests (two reads: the first ten hold few papers), the
    # papers' versions, and for a full answer the papers.
    with django_assert_max_num_queries(5):
        full = client.get(feed_path(reader))
    with django_assert_max_num_queries(4):
        cached = client.get(feed_path(reader), HTTP_IF_NONE_MATCH=full["ETag"])

    assert cached.status_code == 304
    entries = feedparser.parse(full.content).entries
    assert len(entries) == 80  # 40 digests of 2 papers (at most MAX_ENTRIES)
    # The newest digest's papers first.
    assert datetime(*entries[0].updated_parsed[:6]) >= datetime(*entries[-1].updated_parsed[:6])
