"""Sending at scale and exactly once: a chunk in a few queries and one short write per
digest, provider errors told apart, retries and dead workers' deliveries reconciled
with the same Message-ID and content."""

import json
import re
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from digest import compose, evaluations, handover, ingest, journal, sending, tasks
from digest.models import Delivery
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def _queries_of_a_chunk(make_subscriber, size: int, prefix: str) -> int:
    ids = [
        make_subscriber(email=f"{prefix}{i}@example.com", interests=("anomaly detection",)).pk
        for i in range(size)
    ]
    with CaptureQueriesContext(connection) as queries:
        outcome = sending.send_chunk(ids, timezone.now())
    assert str(outcome) == f"sent {size}"
    return len(queries)


def test_a_chunk_costs_a_few_queries_and_one_short_write_per_digest(
    make_subscriber, ingested_papers, settings
):
    settings.DIGEST_SEND_CONCURRENCY = 16
    evaluations.prepare_recent()  # as the fetch that brought the papers did
    handover._quick.clear()  # each as the first chunk of a worker process
    small = _queries_of_a_chunk(make_subscriber, 3, "small")
    handover._quick.clear()
    large = _queries_of_a_chunk(make_subscriber, 30, "large")
    # The next chunk of the process knows its hand-overs are quick.
    after = _queries_of_a_chunk(make_subscriber, 30, "after")

    # Each digest: one UPDATE to "sending" with its items before the hand-over, one to
    # "sent" after it. To a local backend quicker than building (the tests' backend),
    # after the first hand-over, these go in batches of DIGEST_SEND_CONCURRENCY: a
    # batch's "sent" with the next batch's "sending", on PostgreSQL as one query of
    # several statements (each batch's writes one statement); elsewhere one query each.
    if connection.vendor == "postgresql":
        # 3: "sending" 1; "sent" 1 + "sending" 2; "sent" 2 + "sending" 3; "sent" 3.
        # 30: the same first two, then batches of 16 and 12: one query more.
        assert (small, large - small) == (small, 1)
        # The next 30: "sending" 16; "sent" 16 + "sending" 14; "sent" 14.
        assert after == large - 2
        journal_queries = 4
    else:
        assert (large - small) / 27 == 2
        assert after == large
        journal_queries = 6
    # The rest (claim with its source-health read, papers, their records and clause
    # set, their stored analyses for the clause the records lack (the subscribers came
    # after the fetch), interests) is at most 15.
    assert small - journal_queries <= 15
    assert Delivery.objects.filter(status="sent").count() == 63
    assert all(len(d.paper_ids) == 2 for d in Delivery.objects.all())


class _CheckingBackend(BaseEmailBackend):
    """A local backend that notes, as each message is handed over, its row's status and
    how many rows are "sending"."""

    seen: list[tuple[str, int]] = []

    def send_messages(self, email_messages):
        for message in email_messages:
            key = message.extra_headers["Message-ID"].removeprefix("<digest.").split("@")[0]
            status = Delivery.objects.get(message_key=key).status
            self.seen.append((status, Delivery.objects.filter(status="sending").count()))
        return len(email_messages)


def test_to_a_quick_local_backend_digests_go_in_batches_each_sending_before_its_hand_over(
    make_subscriber, ingested_papers, settings, monkeypatch
):
    settings.EMAIL_BACKEND = f"{__name__}._CheckingBackend"
    settings.DIGEST_SEND_CONCURRENCY = 5
    # The checking backend reads the database at each hand-over (two queries, a few ms
    # on a loaded machine): it stands for a quick local backend, so it counts as one.
    monkeypatch.setattr(handover, "QUICK_HANDOVER_SECONDS", 1.0)
    _CheckingBackend.seen = []

    _queries_of_a_chunk(make_subscriber, 12, "batch")

    # Every message was "sending" when it went; more than one at a time (a batch), and
    # never more than the bound.
    assert [status for status, _ in _CheckingBackend.seen] == ["sending"] * 12
    in_flight = [count for _, count in _CheckingBackend.seen]
    assert max(in_flight) == 5
    assert Delivery.objects.filter(status="sent").count() == 12


def test_a_refused_recipient_is_failed_not_retried_and_suppressed_with_the_reply(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber()
    refused = smtplib.SMTPRecipientsRefused(
        {subscriber.email: (550, b"5.1.1 <ada@example.com>: Recipient address rejected")}
    )

    with mock.patch.object(mail.EmailMessage, "send", side_effect=refused) as send:
        assert tasks.send_digests([subscriber.pk]) == "failed 1"
        time_passes()

    assert send.call_count == 1  # never retried
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "550 5.1.1" in delivery.error
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUPPRESSED
    assert subscriber.suppressed_reason == (
        "refused by the recipient's server: 550 5.1.1 <ada@example.com>: Recipient address rejected"
    )


def test_a_greylisted_recipient_is_retried_and_never_suppressed(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber()
    greylisted = smtplib.SMTPRecipientsRefused(
        {subscriber.email: (451, b"4.7.1 Greylisted, please try again in 5 minutes")}
    )
    real_send = mail.EmailMessage.send
    replies = iter([greylisted, greylisted])

    def greylisting(message, *args, **kwargs):
        reply = next(replies, None)
        if reply:
            raise reply
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", greylisting):
        assert tasks.send_digests([subscriber.pk]) == "retrying 1"
        assert "451 4.7.1 Greylisted" in Delivery.objects.get().error
        time_passes()
        time_passes()

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert [m.to for m in mail.outbox] == [[subscriber.email]]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_every_attempt_of_a_digest_carries_the_same_message_id_and_content(
    make_subscriber, ingested_papers, time_passes, fixture_bytes, time_machine
):
    subscriber = make_subscriber(interests=("anomaly detection", "language models"))
    attempts = []
    real_send = mail.EmailMessage.send

    def times_out_after_data(message, *args, **kwargs):
        attempts.append((message.extra_headers["Message-ID"], message.body))
        if len(attempts) == 1:  # the server had it, but its reply came too late
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out")
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", times_out_after_data):
        tasks.send_digests([subscriber.pk])
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.maybe_sent) == (Delivery.Status.RETRY, True)
        # Meanwhile new papers arrive: the resend still holds what the first attempt held.
        ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.CL.xml"), "arxiv_rss")
        # Minutes later: the resend's signed links (unsubscribe, manage, web copy) are
        # still the first attempt's, dated by the claim.
        time_machine.move_to(timezone.now() + timedelta(minutes=3))
        time_passes()

    (first_id, first_body), (second_id, second_body) = attempts
    assert first_id == second_id == compose.message_id(delivery)
    assert first_body == second_body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.maybe_sent, delivery.esp_message_id) == (
        Delivery.Status.SENT,
        True,
        first_id,
    )


def test_the_reconciler_sends_a_delivery_a_dead_worker_left_claimed(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber()
    sending.claim(subscriber.pk, timezone.now())  # ... and the worker died

    assert time_passes() == "took back 1"
    assert tasks.reconcile_deliveries() == "took back 0"

    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.maybe_sent) == ("sent", False)
    assert sorted(delivery.paper_ids) == ["2604.21953", "2604.21956"]


def test_a_digest_a_dead_worker_was_handing_over_goes_again_with_its_message_id_and_items(
    make_subscriber, ingested_papers, time_passes, client
):
    subscriber = make_subscriber()
    held = sending.claim(subscriber.pk, timezone.now())
    (delivery,) = held.deliveries
    items = [["2604.21956", 5.0, [["anomaly detection", ["anomaly detection"], ["title"]]]]]
    # The worker recorded "sending", handed the message over, and died before "sent".
    assert journal.mark_sending(delivery, held.token, json.dumps(items), 0)

    time_passes()

    (message,) = mail.outbox
    delivery.refresh_from_db()
    assert message.extra_headers["Message-ID"] == compose.message_id(delivery)
    assert "Conditional anomaly detection using soft harmonic" in message.body
    assert "Performance Anomaly Detection" not in message.body  # what it held, no more
    assert (delivery.status, delivery.attempts, delivery.maybe_sent) == ("sent", 2, True)
    # Its web copy shows its papers.
    path = re.search(r"https://paperboy\.example(/digest/[^/\s]+/)", message.body).group(1)
    assert "Conditional <mark>anomaly detection</mark>" in client.get(path).content.decode()


def test_a_live_claim_is_not_taken_by_the_reconciler(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    sending.claim(subscriber.pk, timezone.now())

    assert tasks.reconcile_deliveries() == "took back 0"
    assert Delivery.objects.get().status == "claimed"


def _items_of(delivery: Delivery) -> str:
    return json.dumps([[f"p{delivery.pk}", 1.0, [["it's 100% %s", ["%(x)s"], ["title"]]]]])


def test_a_batch_of_journal_writes_changes_only_the_rows_this_claim_still_holds(
    make_subscriber, ingested_papers
):
    readers = [make_subscriber(email=f"journal{n}@example.com").pk for n in range(3)]
    held = sending.claim_many(readers, timezone.now())
    first, lost, last = held.deliveries
    # The reconciler took the middle one meanwhile: it is another token's now.
    Delivery.objects.filter(pk=lost.pk).update(lease_token=journal.new_token())

    # What the statement's text must keep as it is: quotes, percent signs, placeholders.
    sending_counts = journal.commit(
        [journal.sending(d, held.token, _items_of(d), d.pk) for d in held.deliveries]
    )
    sent_counts = journal.commit([journal.sent(d, f"<id{d.pk}>") for d in (first, last)])

    assert (sending_counts, sent_counts) == ([1, 0, 1], [1, 1])
    rows = {d.pk: d for d in Delivery.objects.all()}
    assert [rows[d.pk].status for d in held.deliveries] == ["sent", "claimed", "sent"]
    assert [rows[d.pk].esp_message_id for d in held.deliveries] == [
        f"<id{first.pk}>",
        "",
        f"<id{last.pk}>",
    ]
    # Each row got its own values, none another's.
    for d in (first, last):
        assert (rows[d.pk].items, rows[d.pk].more_count, rows[d.pk].attempts) == (
            json.loads(_items_of(d)),
            d.pk,
            1,
        )
        assert rows[d.pk].lease_token is None and rows[d.pk].sent_at is not None
    assert rows[lost.pk].items == [] and rows[lost.pk].attempts == 0


def test_a_worker_that_lost_its_claim_sends_nothing(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    held = sending.claim(subscriber.pk, timezone.now())
    # Its lease ran out and the reconciler took the delivery (and will send it).
    Delivery.objects.update(lease_until=timezone.now())
    token, ids = sending.take_back()

    assert str(sending.deliver_many(held.deliveries, held.token)) == "taken by another worker 1"
    assert mail.outbox == []
    assert str(sending.deliver_taken(ids, token)) == "sent 1"
    assert len(mail.outbox) == 1


def test_digests_carry_an_esp_tag_and_the_message_key_as_metadata(make_subscriber, ingested_papers):
    make_subscriber()

    tasks.dispatch_digests()

    message = mail.outbox[0]
    delivery = Delivery.objects.get()
    assert message.tags == ["digest"]
    assert message.metadata == {"message_key": str(delivery.message_key)}
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
        outcome = sending.send_chunk([first.pk, second.pk], timezone.now())

    assert str(outcome) == "sent 1, retrying 1"
    assert outcome.unsent == [Delivery.objects.get(subscriber=first).pk]
    assert Delivery.objects.get(subscriber=first).error == "ValueError: template bug"
    assert [m.to for m in mail.outbox] == [["b@example.com"]]


def test_staff_retry_a_digest_that_gave_up_with_its_message_id_and_only_the_latest(
    admin_client, make_subscriber, ingested_papers, time_passes, settings
):
    settings.DIGEST_RETRY_DELAYS_SECONDS = []  # the first failure gives up
    subscriber = make_subscriber()
    with mock.patch.object(mail.EmailMessage, "send", side_effect=ConnectionError("down")):
        assert tasks.send_digests([subscriber.pk]) == "failed 1"
    gave_up = Delivery.objects.get()
    older = Delivery.objects.create(  # an older failure, whose papers went on to this one
        subscriber=subscriber,
        period="2026-01-01",
        status=Delivery.Status.FAILED,
        window_start=gave_up.window_start,
        window_end=gave_up.window_start,
        claimed_at=gave_up.claimed_at - timezone.timedelta(days=30),
    )
    assert gave_up.error == "gave up after 1 attempt: ConnectionError: down"

    response = admin_client.post(
        "/admin/digest/delivery/",
        {"action": "retry_now", "_selected_action": [gave_up.pk, older.pk]},
        follow=True,
    )
    time_passes()

    assert "1 failed delivery(ies) will be retried" in response.content.decode()
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"] == compose.message_id(gave_up)
    assert Delivery.objects.get(pk=gave_up.pk).status == Delivery.Status.SENT
    assert Delivery.objects.get(pk=older.pk).status == Delivery.Status.FAILED
