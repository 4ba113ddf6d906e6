"""Promise: a group's chunk delivered twice to real workers (a broker redelivery, a beat
that fired twice) still gives each member exactly one digest, as a subscriber's."""

import uuid

import pytest
from django.utils import timezone

from digest.models import Delivery
from groups import tasks
from tests.groups.conftest import OWNER
from tests.support import wait_for
from tests.workers import outbox_messages, per_recipient

MEMBERS = ("bea@lab.example", "cy@lab.example", "di@lab.example")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_same_group_chunk_run_twice_by_a_real_worker_sends_once(start_worker, make_group):
    start, outbox = start_worker
    # Its account email (the owner's link) goes through the worker too: counted apart.
    group = make_group(members=MEMBERS)
    worker = start(concurrency=2, slow_seconds=0.2)
    worker.wait_ready()
    now, task_id = timezone.now().isoformat(), str(uuid.uuid4())

    for _ in range(2):
        tasks.send_group_digests.apply_async(([group.pk], now), task_id=task_id)

    finished = f"groups.tasks.send_group_digests[{task_id}] succeeded"
    assert wait_for(lambda: worker.log.count(finished) == 2, timeout=30), worker.log[-3000:]
    digests = [(to, mid) for to, mid in outbox_messages(outbox) if mid.startswith("<digest.")]
    assert per_recipient(digests) == {a: 1 for a in (OWNER, *MEMBERS)}
    assert Delivery.objects.filter(group=group).count() == 4
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
