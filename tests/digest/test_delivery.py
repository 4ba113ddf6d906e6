"""Sending at scale and exactly once: a chunk in constant queries, provider errors
told apart, stuck deliveries reconciled without a second email."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from digest import sending, tasks
from digest.models import Delivery
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def subscribers(make_subscriber, count: int) -> list[int]:
    return [
        make_subscriber(email=f"reader{i}@example.com", interests=("anomaly detection", "LLM")).pk
        for i in range(count)
    ]


@pytest.mark.parametrize("size", [3, 30])
def test_a_chunk_takes_the_same_number_of_queries_whatever_its_size(
    make_subscriber, ingested_papers, django_assert_max_num_queries, size
):
    ids = subscribers(make_subscriber, size)

    with django_assert_max_num_queries(16):
        failures = sending.send_chunk(ids, timezone.now())

    assert failures == []
    assert len(mail.outbox) == size
    assert Delivery.objects.filter(status="sent").count() == size
    assert all(d.papers.count() == 3 for d in Delivery.objects.all())


def test_a_refused_recipient_is_failed_not_retried_and_suppressed(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    refused = AnymailRecipientsRefused("invalid recipient")

    with mock.patch.object(mail.EmailMessage, "send", side_effect=refused) as send:
        tasks.send_digests([subscriber.pk])

    assert send.call_count == 1  # never retried
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "invalid recipient" in delivery.error
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUPPRESSED
    assert "refused by the provider" in subscriber.suppressed_reason


@pytest.mark.parametrize(
    ("error", "transient", "address"),
    [
        (AnymailRecipientsRefused("no"), False, True),
        (AnymailAPIError("bad request", status_code=422), False, False),
        (AnymailAPIError("slow down", status_code=429), True, False),
        (AnymailAPIError("provider down", status_code=503), True, False),
        (TimeoutError("timed out"), True, False),
        (ConnectionRefusedError("refused"), True, False),
    ],
)
def test_provider_errors_are_told_apart(error, transient, address):
    assert sending.classify(error) == (transient, address)


def test_a_transient_failure_is_retried_until_it_goes_out_once(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    real_send = mail.EmailMessage.send
    outcomes = iter([ConnectionResetError("reset"), TimeoutError("slow"), None])

    def flaky(message, *args, **kwargs):
        failure = next(outcomes)
        if failure:
            raise failure
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", flaky):
        tasks.send_digests([subscriber.pk])

    assert len(mail.outbox) == 1
    assert Delivery.objects.get().attempts == 3


def test_the_reconciler_sends_a_delivery_a_dead_worker_left_claimed(
    make_subscriber, ingested_papers
):
    subscriber = make_subscriber()
    delivery = sending.claim(subscriber.pk, timezone.now())
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - sending.STUCK_AFTER - timedelta(minutes=1)
    )

    assert tasks.reconcile_deliveries() == 1
    assert tasks.reconcile_deliveries() == 0

    assert len(mail.outbox) == 1
    assert Delivery.objects.get().status == "sent"


def test_a_digest_that_went_out_before_its_worker_died_is_not_sent_again(
    make_subscriber, ingested_papers
):
    subscriber = make_subscriber()
    delivery = sending.claim(subscriber.pk, timezone.now())
    # The provider took it, the journal noted it, then the worker was killed.
    cache.set(sending._journal_key(delivery), "<sent-before@paperboy>", 60)
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - sending.STUCK_AFTER - timedelta(minutes=1)
    )

    tasks.reconcile_deliveries()

    assert mail.outbox == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.esp_message_id) == ("sent", "<sent-before@paperboy>")


def test_a_live_claim_is_not_taken_by_the_reconciler(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    sending.claim(subscriber.pk, timezone.now())

    assert tasks.reconcile_deliveries() == 0
    assert Delivery.objects.get().status == "claimed"


def test_digests_carry_an_esp_tag_and_the_delivery_id_as_metadata(make_subscriber, ingested_papers):
    make_subscriber()

    tasks.dispatch_digests()

    message = mail.outbox[0]
    delivery = Delivery.objects.get()
    assert message.tags == ["digest"]
    assert message.metadata == {"delivery_id": str(delivery.pk)}
    paper_id, score, reasons = delivery.items[0]
    assert paper_id in {"2604.21953", "2604.21956"} and score > 0
    assert reasons[0][0] == "anomaly detection"


def test_every_digest_has_a_web_copy_with_the_same_papers_and_more(
    client, make_subscriber, ingested_papers, settings
):
    settings.DIGEST_MAX_PAPERS = 1
    make_subscriber(interests=("anomaly detection",))
    tasks.dispatch_digests()
    email = mail.outbox[0]
    path = re.search(r"https://paperboy\.example(/digest/[^/\s]+/)", email.body).group(1)

    page = client.get(path)

    html = page.content.decode()
    assert page.status_code == 200
    # Both anomaly detection papers: the one the email showed, and the one beyond its cap.
    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in html
    assert "Conditional <mark>anomaly detection</mark> using soft harmonic functions" in html
    assert "View in the browser" not in html
    assert "style-src 'self' 'unsafe-inline'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_web_copy_link_cannot_be_forged(client):
    response = client.get("/digest/eyJkIjoxfQ:1xXWqY:forged/")

    assert response.status_code == 400


def test_a_digest_that_cannot_be_rendered_fails_alone(make_subscriber, ingested_papers):
    first = make_subscriber(email="a@example.com")
    second = make_subscriber(email="b@example.com")
    real_build = sending.compose.build_digest_message

    def broken_for_a(subscriber, *args, **kwargs):
        if subscriber.email == "a@example.com":
            raise ValueError("template bug")
        return real_build(subscriber, *args, **kwargs)

    with mock.patch.object(sending.compose, "build_digest_message", broken_for_a):
        failures = sending.send_chunk([first.pk, second.pk], timezone.now())

    assert [f.delivery_id for f in failures] == [Delivery.objects.get(subscriber=first).pk]
    assert Delivery.objects.get(subscriber=first).error == "ValueError: template bug"
    assert [m.to for m in mail.outbox] == [["b@example.com"]]
