"""Celery tasks: thin wrappers over functions that can be called directly."""

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from digest import ingest, sending
from digest.models import Source

logger = logging.getLogger(__name__)

# A failed send is tried again after 1, 2, 4, 8, 16 minutes, then left failed.
MAX_SEND_ATTEMPTS = 6
RETRY_BASE_SECONDS = 60


@shared_task
def fetch_all_sources() -> int:
    """Enqueue one fetch per enabled source, so a slow source holds up no other."""
    ids = list(Source.objects.filter(enabled=True).values_list("pk", flat=True))
    for source_id in ids:
        fetch_source.delay(source_id)
    return len(ids)


@shared_task(bind=True)
def fetch_source(self, source_id: int) -> str:
    """Fetch one source; transient failures are retried with exponential backoff.

    Every failure is recorded on the Source first, so the admin shows it while
    the retry waits. A source being fetched by another run is skipped.
    """
    source = Source.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return "skipped: no such enabled source"
    outcome = ingest.fetch_source(source)
    retries = self.request.retries
    if outcome.transient and retries < settings.FETCH_MAX_RETRIES:
        countdown = settings.FETCH_RETRY_BASE_SECONDS * 2**retries
        logger.warning(
            "source %s: %s; retry %d in %d s", source, outcome.error, retries + 1, countdown
        )
        raise self.retry(countdown=countdown, max_retries=settings.FETCH_MAX_RETRIES)
    return str(outcome)


@shared_task
def dispatch_digests() -> int:
    """Enqueue the due subscribers in chunks, so any number of workers share them.

    Every chunk gets the dispatch's own time as its window's end, so the chunks
    of one dispatch share one window and each worker indexes its papers once.
    """
    now = timezone.now()
    ids = sending.due_subscriber_ids(now)
    for chunk in sending.chunked(ids, settings.DIGEST_CHUNK_SIZE):
        send_digests.delay(chunk, now.isoformat())
    logger.info("dispatched %d due subscribers", len(ids))
    return len(ids)


def _schedule_retry(failure: sending.DeliveryFailed) -> None:
    if not failure.transient:
        logger.error("%s; not retried", failure)
        return
    if failure.attempts >= MAX_SEND_ATTEMPTS:
        logger.error("%s; giving up", failure)
        return
    countdown = RETRY_BASE_SECONDS * 2 ** (failure.attempts - 1)
    logger.warning("%s; retrying in %d s", failure, countdown)
    retry_delivery.apply_async((failure.delivery_id,), countdown=countdown)


@shared_task
def send_digests(subscriber_ids: list[int], now: str | None = None) -> int:
    """Send the due digests of a chunk; one failing address never holds up the rest."""
    # Papers that arrive while the chunk waits in the queue go to the next window.
    moment = datetime.fromisoformat(now) if now else timezone.now()
    failures = sending.send_chunk(subscriber_ids, moment)
    for failure in failures:
        _schedule_retry(failure)
    return len(subscriber_ids) - len(failures)


@shared_task
def retry_delivery(delivery_id: int) -> None:
    delivery = sending.reclaim_failed(delivery_id)
    if delivery is None:
        return
    for failure in sending.deliver_many([delivery]):
        _schedule_retry(failure)


@shared_task
def reconcile_deliveries() -> int:
    """Send again the deliveries a dead worker left claimed (beat, every 15 minutes)."""
    stuck = sending.reclaim_stuck()
    if stuck:
        logger.warning("re-sending %d deliveries left claimed", len(stuck))
    for failure in sending.deliver_many(stuck):
        _schedule_retry(failure)
    return len(stuck)
