"""Promise: every due subscriber gets exactly one digest, even when the worker sending
their chunk is SIGKILLed halfway through it.

A real worker (concurrency 1, acks_late) sends a chunk of 8 through a provider that
takes 0.5 s per message; after 3 messages are out it is killed. The 3 rows say "sent"
(each digest is recorded as it goes), the rest "claimed" under the dead worker's lease,
so recovery is the reconciler (beat runs it every minute): once the lease has run out
it sends the rest, and never the first 3 again. The broker's redelivery of the chunk
itself (immediately when only the pool process died; on Redis after a visibility
timeout of CELERY_TASK_TIME_LIMIT * 6) must send nothing. tests/reliability/
test_faults.py does the same at random moments, with a real SMTP server.
"""

import os
import signal

import pytest
from django.utils import timezone

from digest import tasks
from digest.models import Delivery
from tests.support import wait_for
from tests.workers import outbox_messages, per_recipient

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

READERS = 8


def _sent_task_runs(log: str) -> int:
    return sum(
        1
        for line in log.splitlines()
        if "digest.tasks.send_digests[" in line and "succeeded" in line
    )


@pytest.mark.parametrize("killed", ["whole worker", "pool process"])
def test_a_chunk_whose_worker_is_killed_midway_reaches_everyone_exactly_once(
    start_worker, due_readers, killed
):
    start, outbox = start_worker
    readers = due_readers(READERS)
    worker = start(concurrency=1, slow_seconds=0.5)
    worker.wait_ready()

    tasks.dispatch_digests.delay()  # as beat does: one chunk of 8 on the worker's queue

    assert wait_for(lambda: len(outbox_messages(outbox)) >= 3, timeout=60), worker.log[-3000:]
    if killed == "whole worker":
        worker.kill_all()
    else:
        (pool,) = worker.pool_children()
        os.kill(pool, signal.SIGKILL)
    before_recovery = outbox_messages(outbox)

    # The kill landed mid-chunk: some digests went out (and say so), not all, and work
    # was left claimed.
    assert 2 <= len(before_recovery) < READERS
    assert Delivery.objects.count() == READERS
    assert Delivery.objects.filter(status=Delivery.Status.CLAIMED).exists()
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() >= len(before_recovery) - 1

    if killed == "whole worker":
        worker = start(concurrency=1, slow_seconds=0.1)
        worker.wait_ready()
    else:
        # acks_late + reject_on_worker_lost: the broker hands the chunk out again, and the
        # surviving worker runs it; every subscriber is claimed already, so it sends nothing.
        assert wait_for(lambda: _sent_task_runs(worker.log) >= 1, timeout=30), worker.log[-3000:]
        assert "WorkerLostError" in worker.log
        assert len(outbox_messages(outbox)) == len(before_recovery)

    # Time passes: the dead worker's lease runs out, and beat runs the reconciler.
    Delivery.objects.filter(status__in=Delivery.PENDING).update(lease_until=timezone.now())
    tasks.reconcile_deliveries.delay()

    done = wait_for(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == READERS, timeout=30
    )
    assert done, list(Delivery.objects.values("subscriber__email", "status", "error"))
    tasks.reconcile_deliveries.delay()  # a second reconcile finds nothing left to do
    assert wait_for(lambda: "'took back 0'" in worker.log, timeout=30), worker.log[-3000:]
    assert worker.process.poll() is None, "the recovering worker died"

    messages = outbox_messages(outbox)
    assert per_recipient(messages) == {reader.email: 1 for reader in readers}
    deliveries = Delivery.objects.order_by("subscriber_id")
    assert [d.subscriber_id for d in deliveries] == sorted(reader.pk for reader in readers)
    assert {d.status for d in deliveries} == {Delivery.Status.SENT}
    # Each row names the message that actually went out, those sent before the kill included.
    sent_ids = {to: message_id for to, message_id in messages}
    assert {d.subscriber.email: d.esp_message_id for d in deliveries} == sent_ids
