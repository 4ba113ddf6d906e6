"""Promise: two dispatchers sending the same due subscribers at the same moment give each
subscriber exactly one digest and one Delivery (on PostgreSQL the row locks of
claim_many serialize them; on SQLite its write lock does)."""

import threading

import pytest
from django.db import connections
from django.utils import timezone

from digest import sending
from digest.models import Delivery
from tests.backends import RecordingBackend

pytestmark = pytest.mark.django_db(transaction=True)


def _run_at_once(*chunks: list[int]) -> list:
    """Run sending.send_chunk on each chunk in its own thread, all released together."""
    now = timezone.now()
    start = threading.Barrier(len(chunks))
    outcomes: list = [None] * len(chunks)

    def dispatcher(slot: int, ids: list[int]) -> None:
        try:
            start.wait(timeout=10)
            outcomes[slot] = sending.send_chunk(ids, now)
        except BaseException as error:  # reported to the test below
            outcomes[slot] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher, args=pair) for pair in enumerate(chunks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a dispatcher hung (deadlock?)"
    return outcomes


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = "tests.backends.RecordingBackend"
    RecordingBackend.reset()
    yield RecordingBackend
    RecordingBackend.reset()


def _assert_one_each(provider, readers) -> None:
    recipients = sorted(to for to, _ in provider.accepted)
    assert recipients == sorted(reader.email for reader in readers)
    deliveries = Delivery.objects.all()
    assert sorted(d.subscriber_id for d in deliveries) == sorted(r.pk for r in readers)
    assert {d.status for d in deliveries} == {Delivery.Status.SENT}
    assert {d.esp_message_id for d in deliveries} == {mid for _, mid in provider.accepted}


def test_two_dispatchers_on_the_same_chunk_send_one_digest_each(provider, due_readers):
    readers = due_readers(6)
    ids = [reader.pk for reader in readers]

    outcomes = _run_at_once(ids, ids)

    # One dispatcher claimed and sent all six; the other found nobody due.
    assert sorted(map(str, outcomes)) == ["nothing to send", "sent 6"], outcomes
    _assert_one_each(provider, readers)


def test_two_dispatchers_on_overlapping_chunks_neither_deadlock_nor_double_send(
    provider, due_readers
):
    """Chunks in opposite orders that share subscribers: locks taken in id order."""
    readers = due_readers(9)
    ids = [reader.pk for reader in readers]

    outcomes = _run_at_once(ids[:6][::-1], ids[3:])

    sent = [sending_outcome.counts["sent"] for sending_outcome in outcomes]
    assert sum(sent) == 9 and all(not o.unsent for o in outcomes), outcomes
    _assert_one_each(provider, readers)
