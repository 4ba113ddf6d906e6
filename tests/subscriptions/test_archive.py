"""The archive: the manage page lists past digests with their web copies, and a search
finds the papers one was sent, page by page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from digest import ingest, tasks
from digest.models import Delivery, Paper
from digest.sources import PaperRecord
from subscriptions import tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def token_of(subscriber: Subscriber) -> str:
    return tokens.make_token(tokens.MANAGE, subscriber.pk)


def archive_url(subscriber: Subscriber) -> str:
    return reverse("subscriptions:archive", args=[token_of(subscriber)])


def add_papers(count: int, title: str = "Anomaly detection study {n}", abstract: str = "") -> None:
    ingest.upsert(
        [
            PaperRecord(
                canonical_id=f"2605.{n:05d}",
                title=title.format(n=n),
                abstract=abstract.format(n=n),
                abs_url=f"https://arxiv.org/abs/2605.{n:05d}",
                categories=["cs.LG"],
            )
            for n in range(count)
        ]
    )


def digest_of(subscriber: Subscriber, paper_ids: list[str], days_ago: int, **fields) -> Delivery:
    end = timezone.now() - timedelta(days=days_ago)
    return Delivery.objects.create(
        subscriber=subscriber,
        period=f"p{days_ago}",
        status=fields.pop("status", Delivery.Status.SENT),
        window_start=end - timedelta(days=1),
        window_end=end,
        sent_at=end,
        items=[
            [paper_id, 1.0, [["anomaly detection", ["anomaly"], ["title"]]]]
            for paper_id in paper_ids
        ],
        **fields,
    )


def test_the_manage_page_lists_past_digests_with_count_first_titles_and_web_copy(
    client, make_subscriber, ingested_papers
):
    subscriber = make_subscriber(interests=("anomaly detection",))
    tasks.dispatch_digests()
    delivery = Delivery.objects.get(subscriber=subscriber)

    page = client.get(reverse("subscriptions:manage", args=[token_of(subscriber)]))
    text = page.content.decode()

    assert "Your past digests" in text
    assert "2 papers: Performance Anomaly Detection in Athletics" in text
    assert "Conditional anomaly detection using soft harmonic functions" in text
    web_path = text.split('<ul class="digests">')[1].split('href="https://paperboy.example')[1]
    web_path = web_path.split('"')[0]
    assert tokens.read_token(tokens.WEB_COPY, web_path.split("/")[2]) == delivery.pk
    web = client.get(web_path)
    assert web.status_code == 200
    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in web.content.decode()


def test_digests_that_held_nothing_or_never_went_out_are_not_listed(client, make_subscriber):
    subscriber = make_subscriber()
    add_papers(3)
    digest_of(subscriber, ["2605.00000"], 1, status=Delivery.Status.EMPTY)
    digest_of(subscriber, ["2605.00001"], 2, status=Delivery.Status.FAILED)
    digest_of(subscriber, ["2605.00002"], 3, status=Delivery.Status.RETRY)
    digest_of(subscriber, [], 4)
    kept = digest_of(subscriber, ["2605.00000", "2605.00001"], 5, status=Delivery.Status.FEED)

    page = client.get(archive_url(subscriber)).content.decode()

    assert page.count("<li><a href=") == 1
    assert "2 papers: Anomaly detection study 0 · Anomaly detection study 1" in page
    assert kept.sent_at.strftime("%-d %b %Y") in page


def test_the_archive_lists_every_digest_newest_first_page_by_page(client, make_subscriber):
    subscriber = make_subscriber(time_zone="Europe/Paris")
    add_papers(25)
    for n in range(25):
        digest_of(subscriber, [f"2605.{n:05d}"], days_ago=n + 1)

    first = client.get(archive_url(subscriber)).content.decode()
    second = client.get(archive_url(subscriber) + "?page=2").content.decode()
    nonsense = client.get(archive_url(subscriber) + "?page=banana").content.decode()

    assert first.count("<li><a href=") == 20
    assert first.index("study 0<") < first.index("study 19<")
    assert "study 20<" not in first
    assert second.count("<li><a href=") == 5
    assert "study 24<" in second
    assert "Page 2 of 2" in second
    assert "Page 1 of 2" in nonsense


def test_search_finds_the_papers_one_was_sent_by_title_or_abstract_words(client, make_subscriber):
    subscriber = make_subscriber()
    other = make_subscriber(email="other@example.com")
    add_papers(4, title="Paper {n} on anomaly detection", abstract="Abstract {n}.")
    Paper.objects.filter(canonical_id="2605.00001").update(
        abstract="We study Gravitational Waves from mergers."
    )
    Paper.objects.filter(canonical_id="2605.00003").update(
        abstract="We study gravitational waves too."
    )
    digest_of(subscriber, ["2605.00000", "2605.00001"], 2)
    digest_of(subscriber, ["2605.00002"], 1)
    digest_of(other, ["2605.00003"], 1)  # someone else's paper

    def found(q: str) -> str:
        return client.get(archive_url(subscriber), {"q": q}).content.decode()

    page = found("gravitational WAVES")
    assert "1 paper with “gravitational WAVES”" in page
    assert "Paper 1 on anomaly detection" in page
    assert "Paper 3" not in page
    assert "matched: anomaly detection" in page

    page = found("anomaly detection")
    assert "3 papers with" in page
    # Newest digest first.
    assert page.index("Paper 2 on") < page.index("Paper 0 on") < page.index("Paper 1 on")

    assert "0 papers with" in found("anomaly mergers telescopes")
    assert "None of the papers you were sent" in found("nothing-like-this")


def test_search_results_come_page_by_page(client, make_subscriber):
    subscriber = make_subscriber()
    add_papers(45, title="Study {n} of anomaly detection")
    digest_of(subscriber, [f"2605.{n:05d}" for n in range(45)], 1)

    first = client.get(archive_url(subscriber), {"q": "study"}).content.decode()
    last = client.get(archive_url(subscriber), {"q": "study", "page": "3"}).content.decode()

    assert "45 papers with" in first
    assert first.count('<div class="hint">matched:') == 20
    assert last.count('<div class="hint">matched:') == 5
    assert "Page 3 of 3" in last
    assert "?q=study&amp;page=2" in last


def test_the_archive_is_behind_the_manage_link_and_never_cached(client, make_subscriber):
    subscriber = make_subscriber()

    assert client.get(reverse("subscriptions:archive", args=["forged"])).status_code == 404
    unsubscribe_token = tokens.make_token(tokens.UNSUBSCRIBE, subscriber.pk)
    assert client.get(reverse("subscriptions:archive", args=[unsubscribe_token])).status_code == 404
    response = client.get(archive_url(subscriber))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "No digest yet" in response.content.decode()
