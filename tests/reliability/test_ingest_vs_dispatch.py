"""Promise: a paper whose ingest commits while a dispatch closes its window arrives in
exactly one digest, never in none (digest/window.py)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from digest import ingest, sending, tasks
from digest.models import Delivery
from digest.sources import PaperRecord
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

LATE_PAPER = PaperRecord(
    "2612.04242", "Anomaly detection in late-arriving telemetry", abstract="A study."
)


def test_a_paper_committed_while_a_window_closes_is_mailed_once(make_subscriber):
    subscriber = make_subscriber(interests=("anomaly detection",))
    stamped, release = threading.Event(), threading.Event()
    outcome = {}

    def slow_ingest() -> None:
        # The paper's first-seen time is taken, then the commit takes a while (a big feed).
        try:
            with transaction.atomic():
                ingest.upsert([LATE_PAPER])
                stamped.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    def dispatch() -> None:
        try:
            outcome["dispatched"] = tasks.dispatch_digests()
        finally:
            connections.close_all()

    ingesting = threading.Thread(target=slow_ingest)
    ingesting.start()
    assert stamped.wait(timeout=10)
    dispatching = threading.Thread(target=dispatch)
    dispatching.start()  # closes its window while the paper is stamped but not committed
    dispatching.join(timeout=1)
    release.set()
    ingesting.join(timeout=10)
    dispatching.join(timeout=20)
    assert outcome == {"dispatched": 1}

    # The next day's digest, whose window starts where this one ended.
    tomorrow = timezone.now() + timedelta(days=1)
    Subscriber.objects.filter(pk=subscriber.pk).update(next_digest_at=tomorrow)
    sending.send_chunk([subscriber.pk], tomorrow + timedelta(minutes=1))

    held = [d.paper_ids for d in Delivery.objects.order_by("window_end")]
    assert len(held) == 2
    assert sum(LATE_PAPER.canonical_id in ids for ids in held) == 1, held
