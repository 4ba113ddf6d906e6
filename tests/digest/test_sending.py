"""A due subscriber gets exactly one digest per period, with both parts and the headers."""

import gc
from datetime import timedelta
from email.utils import parseaddr
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from digest import compose, heap, ingest, sending, tasks
from digest.models import Delivery, Paper
from digest.sources import PaperRecord
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def test_it_sends_a_due_subscriber_one_digest_with_both_parts_and_headers(
    make_subscriber, ingested_papers
):
    subscriber = make_subscriber(interests=("anomaly detection",))

    tasks.dispatch_digests()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [subscriber.email]
    assert parseaddr(message.from_email)[1] == "digest@paperboy.localhost"
    assert "Performance Anomaly Detection in Athletics" in message.body
    assert "Conditional anomaly detection using soft harmonic functions" in message.body
    assert "Hardware and Software Techniques" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    # The words that matched are highlighted, as the paper writes them.
    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in html
    assert "matched: anomaly detection" in html
    assert "https://arxiv.org/abs/2604.21956" in html

    headers = message.message()
    assert headers["List-Unsubscribe"].startswith("<https://paperboy.example/unsubscribe/")
    assert headers["List-Unsubscribe"].endswith("/>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Id"] == "Paperboy digest <digest.paperboy.example>"

    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.status == Delivery.Status.SENT
    assert delivery.esp_message_id == headers["Message-ID"]
    assert set(delivery.paper_ids) == {"2604.21953", "2604.21956"}


def test_through_an_anymail_provider_the_delivery_keeps_the_provider_message_id(
    make_subscriber, ingested_papers, settings
):
    settings.EMAIL_BACKEND = "tests.support.ESPBackend"
    subscriber = make_subscriber()

    tasks.dispatch_digests()

    sent = mail.outbox[0]
    assert sent.anymail_status.status == {"sent"}
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert delivery.esp_message_id == sent.anymail_status.message_id == "esp-0"


def test_running_the_dispatch_again_sends_nothing_more(make_subscriber, ingested_papers):
    subscriber = make_subscriber()

    tasks.dispatch_digests()
    tasks.dispatch_digests()
    tasks.send_digests([subscriber.pk])

    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(subscriber=subscriber).count() == 1
    subscriber.refresh_from_db()
    assert subscriber.next_digest_at > timezone.now()


def test_a_duplicated_task_for_the_same_period_sends_nothing(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    # A redelivered message after the claim but before next_digest_at moved:
    # the unique (subscriber, period) row is what stops it.
    due_at = subscriber.next_digest_at

    assert str(sending.send_digest(subscriber.pk)) == "sent 1"
    Subscriber.objects.filter(pk=subscriber.pk).update(next_digest_at=due_at)
    assert str(sending.send_digest(subscriber.pk)) == "nothing to send"

    assert len(mail.outbox) == 1


def test_a_subscriber_not_yet_due_gets_nothing(make_subscriber, ingested_papers):
    make_subscriber(due=False)

    assert tasks.dispatch_digests() == 0
    assert mail.outbox == []


@pytest.mark.parametrize("status", [Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED])
def test_only_active_subscribers_get_digests(make_subscriber, ingested_papers, status):
    make_subscriber(status=status)

    tasks.dispatch_digests()

    assert mail.outbox == []


def test_nothing_matched_sends_no_email_but_records_the_period(make_subscriber, ingested_papers):
    subscriber = make_subscriber(interests=("quantum chromodynamics",))

    tasks.dispatch_digests()

    assert mail.outbox == []
    assert Delivery.objects.get(subscriber=subscriber).status == Delivery.Status.EMPTY


def test_a_setting_sends_a_short_note_when_nothing_matched(
    make_subscriber, ingested_papers, settings
):
    settings.DIGEST_SEND_EMPTY = True
    make_subscriber(interests=("quantum chromodynamics",))

    tasks.dispatch_digests()

    assert len(mail.outbox) == 1
    assert "No new paper matched your interests" in mail.outbox[0].body


def test_a_paper_is_never_mailed_twice_to_the_same_person(
    make_subscriber, ingested_papers, fixture_bytes
):
    subscriber = make_subscriber(interests=("anomaly detection", "language models"))
    tasks.dispatch_digests()
    first = mail.outbox[0].body

    # The next day: a new feed arrives, and the subscriber is due again.
    Subscriber.objects.filter(pk=subscriber.pk).update(
        next_digest_at=timezone.now() + timedelta(days=1)
    )
    ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.CL.xml"), "arxiv_rss")
    sending.send_digest(subscriber.pk, now=timezone.now() + timedelta(days=1, minutes=1))

    assert len(mail.outbox) == 2
    second = mail.outbox[1].body
    assert "Performance Anomaly Detection in Athletics" in first
    assert "Performance Anomaly Detection in Athletics" not in second


def test_the_last_check_skips_an_address_suppressed_after_the_claim(
    make_subscriber, ingested_papers
):
    subscriber = make_subscriber()
    held = sending.claim(subscriber.pk, timezone.now())
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.SUPPRESSED)

    outcome = sending.deliver_many(held.deliveries, held.token)

    assert (str(outcome), mail.outbox) == ("skipped 1", [])
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.lease_token) == (Delivery.Status.SKIPPED, None)


def test_a_failed_send_waits_on_its_row_and_the_reconciler_sends_it_once(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber()
    real_send = mail.EmailMessage.send
    calls = {"n": 0}

    def flaky_send(message, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("provider unavailable")
        return real_send(message, *args, **kwargs)

    # The network edge: the provider fails twice, then accepts.
    with mock.patch.object(mail.EmailMessage, "send", flaky_send):
        assert tasks.send_digests([subscriber.pk]) == "retrying 1"
        delivery = Delivery.objects.get(subscriber=subscriber)
        assert (delivery.status, delivery.attempts) == (Delivery.Status.RETRY, 1)
        assert "ConnectionError: provider unavailable" in delivery.error
        time_passes()
        time_passes()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (Delivery.Status.SENT, 3, "")
    assert len(mail.outbox) == 1


def test_retries_spread_over_hours_then_the_digest_fails_visibly(
    make_subscriber, ingested_papers, settings, time_passes
):
    subscriber = make_subscriber()
    waits = []

    with mock.patch.object(mail.EmailMessage, "send", side_effect=ConnectionError("down")):
        tasks.send_digests([subscriber.pk])
        while (delivery := Delivery.objects.get()).status == Delivery.Status.RETRY:
            waits.append((delivery.lease_until - timezone.now()).total_seconds())
            time_passes()

    assert [round(wait / 60) for wait in waits] == [1, 5, 15, 30, 60, 120, 240, 480]
    assert sum(settings.DIGEST_RETRY_DELAYS_SECONDS) / 3600 > 15
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == len(settings.DIGEST_RETRY_DELAYS_SECONDS) + 1
    assert delivery.error == "gave up after 9 attempts: ConnectionError: down"
    assert mail.outbox == []


def test_papers_of_a_failed_digest_are_carried_into_the_next_one(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber()
    with mock.patch.object(mail.EmailMessage, "send", side_effect=ConnectionError("down")):
        tasks.send_digests([subscriber.pk])

    tomorrow = timezone.now() + timedelta(days=1, minutes=1)
    Subscriber.objects.filter(pk=subscriber.pk).update(next_digest_at=tomorrow)
    sending.send_digest(subscriber.pk, now=tomorrow)

    assert len(mail.outbox) == 1
    assert "Performance Anomaly Detection in Athletics" in mail.outbox[0].body
    # The first digest, still waiting to retry, was superseded: its papers came once.
    first, second = Delivery.objects.order_by("claimed_at")
    assert (first.status, first.error) == (Delivery.Status.FAILED, sending.SUPERSEDED)
    assert second.status == Delivery.Status.SENT
    time_passes()
    assert len(mail.outbox) == 1


def test_the_digest_is_capped_with_an_and_more_line(make_subscriber, ingested_papers, settings):
    settings.DIGEST_MAX_PAPERS = 1
    subscriber = make_subscriber()

    tasks.dispatch_digests()

    assert "and 1 more matching paper: https://paperboy.example/digest/" in mail.outbox[0].body
    delivery = Delivery.objects.get(subscriber=subscriber)
    # It holds both (its web copy lists them); the email showed one and said "1 more".
    assert (len(delivery.paper_ids), delivery.more_count) == (2, 1)


def test_chunks_cover_every_id_once_in_order():
    assert list(sending.chunked([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(sending.chunked([], 2)) == []


def test_dispatch_sends_every_due_subscriber_across_chunks(
    make_subscriber, ingested_papers, settings
):
    settings.DIGEST_CHUNK_SIZE = 2
    for n in range(5):
        make_subscriber(email=f"reader{n}@example.com")

    assert tasks.dispatch_digests() == 5

    assert sorted(m.to[0] for m in mail.outbox) == [f"reader{n}@example.com" for n in range(5)]


def test_a_feed_title_with_line_breaks_never_becomes_a_header(make_subscriber, db):
    make_subscriber(interests=("anomaly detection",))
    Paper.objects.create(
        canonical_id="2601.00001",
        title="Anomaly detection\r\nBcc: victim@example.com",
        abs_url="https://arxiv.org/abs/2601.00001",
    )

    tasks.dispatch_digests()

    message = mail.outbox[0].message()
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert "victim@example.com" not in mail.outbox[0].recipients()


def test_markup_left_as_text_in_a_feed_title_reaches_the_email_escaped(make_subscriber, db):
    # clean_text drops real tags; what is not a tag stays text and must be escaped.
    title = "Attacks on <z onerror=alert(1)> anomaly detection & <svg/onload=x> models"
    ingest.upsert([PaperRecord("2611.00001", title, abstract="On anomaly detection.")])
    make_subscriber(interests=("anomaly detection",))

    tasks.dispatch_digests()

    html, _ = mail.outbox[0].alternatives[0]
    assert "<z onerror" not in html and "<svg/onload" not in html
    assert (
        "Attacks on &lt;z onerror=alert(1)&gt; <mark>anomaly detection</mark> &amp; "
        "&lt;svg/onload=x&gt;" in html
    )
    assert title in mail.outbox[0].body


def test_bidi_and_invisible_characters_of_a_feed_title_never_reach_the_subject(make_subscriber, db):
    # U+202E turns the rest of a line around; U+2066..2069 isolate; U+200B is invisible.
    title = "Anomaly detection \u202egnp.exe\u202c for \u2066logs\u2069 and \u200bmetrics"
    ingest.upsert([PaperRecord("2611.00002", title, abstract="On anomaly detection.")])
    make_subscriber(interests=("anomaly detection",))

    tasks.dispatch_digests()

    subject = mail.outbox[0].subject
    assert subject == ("1 new paper on your topics: Anomaly detection gnp.exe for logs and metrics")


def test_a_senders_big_window_index_is_frozen_out_of_the_collectors_passes(
    make_subscriber, ingested_papers, monkeypatch
):
    """A worker's window index lives for the whole dispatch: frozen (heap.py), the
    cycle collector's full passes no longer walk it again and again as digests go out.
    The next window's build unfreezes it, so a dropped index can be collected."""
    monkeypatch.setattr(heap, "FREEZE_FROM", 1)  # the fixture's few papers count as big
    monkeypatch.setattr(sending, "_windows", {})
    make_subscriber(interests=("anomaly detection",))
    try:
        tasks.dispatch_digests()
        assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 1
        ((_, index),) = sending._windows.values()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        assert not any(o is index for o in gc.get_objects())

        monkeypatch.setattr(heap, "FREEZE_FROM", 10**6)  # the next window is a small one
        sending._windows.clear()
        make_subscriber(email="second@example.com", interests=("anomaly detection",))
        tasks.dispatch_digests()
        assert gc.get_freeze_count() == 0
    finally:
        heap.forget_freeze()


def test_a_chunk_goes_out_with_the_collectors_young_pass_less_often(
    make_subscriber, ingested_papers, monkeypatch
):
    """Its many short-lived objects beside the caches' long-lived ones (heap.py)."""
    seen = []
    build = compose.build_digest_message

    def building(*args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return build(*args, **kwargs)

    monkeypatch.setattr(compose, "build_digest_message", building)
    make_subscriber(interests=("anomaly detection",))
    before = gc.get_threshold()

    tasks.dispatch_digests()

    assert seen == [max(before[0], heap.SENDING_YOUNG_THRESHOLD)]
    assert gc.get_threshold() == before
