"""Promise: a send_digests message delivered twice (a broker redelivery, a beat that
fired twice) still gives every subscriber exactly one digest."""

import uuid

import pytest
from django.core import mail
from django.utils import timezone

from digest import tasks
from digest.models import Delivery
from tests.support import wait_for
from tests.workers import outbox_messages, per_recipient

READERS = 5


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_same_chunk_message_run_twice_by_a_real_worker_sends_once(start_worker, due_readers):
    """Two copies of one message (same task id), run at the same time by two pool processes."""
    start, outbox = start_worker
    readers = due_readers(READERS)
    worker = start(concurrency=2, slow_seconds=0.2)
    worker.wait_ready()
    ids, now = [reader.pk for reader in readers], timezone.now().isoformat()
    task_id = str(uuid.uuid4())

    for _ in range(2):
        tasks.send_digests.apply_async((ids, now), task_id=task_id)

    finished = f"digest.tasks.send_digests[{task_id}] succeeded"
    assert wait_for(lambda: worker.log.count(finished) == 2, timeout=30), worker.log[-3000:]
    assert worker.log.count(f"digest.tasks.send_digests[{task_id}] received") == 2

    assert per_recipient(outbox_messages(outbox)) == {reader.email: 1 for reader in readers}
    assert Delivery.objects.count() == READERS
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


@pytest.mark.django_db
def test_a_chunk_and_a_dispatch_run_again_in_process_send_nothing_more(due_readers):
    """The same chunk twice, then beat's dispatch twice on top: still one digest each."""
    readers = due_readers(READERS)
    ids, now = [reader.pk for reader in readers], timezone.now().isoformat()

    tasks.send_digests(ids, now)
    tasks.send_digests(ids, now)
    assert tasks.dispatch_digests() == 0  # nobody is due any more
    tasks.dispatch_digests()

    assert sorted(to for message in mail.outbox for to in message.to) == sorted(
        reader.email for reader in readers
    )
    assert Delivery.objects.count() == READERS
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
