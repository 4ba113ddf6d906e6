"""On PostgreSQL a chunk's batches are committed on the journal's own connection, on a
thread of its own, while the next digests are built: each digest is still handed over
only once its row says "sending", no more than DIGEST_SEND_CONCURRENCY are "sending" at
a hand-over, and every outcome is recorded. Elsewhere (SQLite, or inside a transaction
another connection could not see) the commits stay on the calling thread."""

import threading

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from digest import handover, journal, sending
from digest.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


class CheckingBackend(LocmemBackend):
    """A local backend (quick, so the chunk goes in batches) that reads, as each message
    is handed to it, the message's own row and how many rows are "sending"."""

    seen: list[tuple[str, str, int]] = []  # to, status, rows "sending"

    def send_messages(self, messages):
        for message in messages:
            key = message.extra_headers["Message-ID"].removeprefix("<digest.").split("@")[0]
            status = Delivery.objects.get(message_key=key).status
            sending_now = Delivery.objects.filter(status=Delivery.Status.SENDING).count()
            self.seen.append((message.to[0], status, sending_now))
        return super().send_messages(messages)


@pytest.fixture
def checking_backend(settings):
    settings.EMAIL_BACKEND = "tests.digest.test_recorder.CheckingBackend"
    CheckingBackend.seen = []
    handover._quick.clear()  # as in a fresh worker: one hand-over measured, then batches
    yield CheckingBackend
    handover._quick.clear()


@pytest.fixture
def commit_threads(monkeypatch):
    """The name of the thread each of the journal's commits ran on."""
    names: list[str] = []
    commit = journal.commit

    def recording(writes):
        names.append(threading.current_thread().name)
        return commit(writes)

    monkeypatch.setattr(journal, "commit", recording)
    return names


def test_each_digest_is_handed_over_once_recorded_sending_and_every_outcome_is_recorded(
    checking_backend, commit_threads, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 3
    readers = [make_subscriber(email=f"reader{n}@example.com") for n in range(11)]

    outcome = sending.send_chunk([r.pk for r in readers], timezone.now())

    assert str(outcome) == "sent 11"
    seen = checking_backend.seen
    assert sorted(to for to, *_ in seen) == sorted(r.email for r in readers)
    assert {status for _, status, _ in seen} == {Delivery.Status.SENDING}
    assert max(in_flight for *_, in_flight in seen) <= 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    # Batches of 3 after the first measured hand-over: 1 + 3 + 3 + 3 + 1 "sending".
    assert len(commit_threads) >= 5
    aside = connection.vendor == "postgresql"
    assert handover.records_aside() is aside
    on_the_recorder = {name.startswith("journal") for name in commit_threads}
    assert on_the_recorder == ({True} if aside else {False})


def test_the_recorders_connection_is_closed_with_the_chunk(
    checking_backend, settings, make_subscriber, ingested_papers
):
    if connection.vendor != "postgresql":
        assert not handover.records_aside()  # nothing is recorded aside to close
        return
    readers = [make_subscriber(email=f"reader{n}@example.com") for n in range(4)]

    sending.send_chunk([r.pk for r in readers], timezone.now())

    def recorder_connection_open() -> bool:
        return connection.connection is not None

    assert handover._recorder().submit(recorder_connection_open).result() is False


def test_a_failed_commit_of_the_recorder_stops_the_chunk_and_hands_over_nothing_more(
    checking_backend, commit_threads, monkeypatch, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 2
    readers = [make_subscriber(email=f"reader{n}@example.com") for n in range(8)]
    commit = journal.commit
    calls = []

    def failing_third(writes):
        calls.append(len(writes))
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return commit(writes)

    monkeypatch.setattr(journal, "commit", failing_third)

    with pytest.raises(RuntimeError, match="went away"):
        sending.send_chunk([r.pk for r in readers], timezone.now())

    # Whatever was handed over had been recorded "sending" first; what the failed
    # commit would have recorded "sending" was never handed over.
    handed = {to for to, *_ in checking_backend.seen}
    statuses = dict(Delivery.objects.values_list("subscriber__email", "status"))
    assert handed and all(statuses[to] in ("sending", "sent") for to in handed)
    never = {email for email, status in statuses.items() if status == "claimed"}
    assert never and not never & handed


def test_inside_a_transaction_the_commits_stay_on_the_calling_thread():
    with transaction.atomic():
        assert not handover.records_aside()


def test_with_the_setting_off_the_commits_stay_on_the_calling_thread(
    checking_backend, commit_threads, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_RECORD_ASIDE = False
    readers = [make_subscriber(email=f"reader{n}@example.com") for n in range(4)]

    outcome = sending.send_chunk([r.pk for r in readers], timezone.now())

    assert str(outcome) == "sent 4"
    assert commit_threads and not any(name.startswith("journal") for name in commit_threads)
