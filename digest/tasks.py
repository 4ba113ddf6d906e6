"""Celery tasks: thin wrappers over functions that can be called directly."""

import logging
import uuid
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from digest import evaluations, health, ingest, personal, sending, window
from digest.models import Source
from groups import sending as group_sending
from groups import tasks as group_tasks

logger = logging.getLogger(__name__)


@shared_task
def fetch_all_sources() -> int:
    """Enqueue one fetch per enabled source, so a slow source holds up no other.

    Each source's health is checked first, so a source whose fetches stopped (a
    worker that never picks them up) is still reported stale.
    """
    health.report_all()
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
    if outcome.read and (outcome.summary.new or outcome.summary.updated):
        # The windows and the preview will read these papers' analyses and records.
        evaluations.prepare_recent()
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

    Every chunk gets the dispatch's own window end, so the chunks of one
    dispatch share one window and each worker indexes its papers once. A chunk
    that is lost before it runs (a broker restart) claims nothing, so its
    subscribers stay due for the next dispatch.
    """
    now = window.window_end()
    ids = sending.due_subscriber_ids(now)
    for chunk in sending.chunked(ids, settings.DIGEST_CHUNK_SIZE):
        send_digests.delay(chunk, now.isoformat())
    logger.info("dispatched %d due subscribers", len(ids))
    # Groups' digests (groups/): the same window end, one task per chunk of groups.
    group_ids = group_sending.due_group_ids(now)
    for chunk in sending.chunked(group_ids, settings.DIGEST_CHUNK_SIZE):
        group_tasks.send_group_digests.delay(chunk, now.isoformat())
    if group_ids:
        logger.info("dispatched %d due groups", len(group_ids))
    return len(ids)


# A dropped database connection before anything was claimed: try the chunk again soon.
_DATABASE_ERRORS = (OperationalError, InterfaceError)


@shared_task(autoretry_for=_DATABASE_ERRORS, retry_backoff=5, max_retries=3)
def send_digests(subscriber_ids: list[int], now: str | None = None) -> str:
    """Send the due digests of a chunk; one failing address never holds up the rest.

    Returns what it did ("sent 47, empty 3"). Failed attempts wait on their rows
    for the reconciler, which retries them when their time comes.
    """
    # Papers that arrive while the chunk waits in the queue go to the next window.
    moment = datetime.fromisoformat(now) if now else None
    return str(sending.send_chunk(subscriber_ids, moment))


@shared_task(autoretry_for=_DATABASE_ERRORS, retry_backoff=5, max_retries=3)
def send_taken(delivery_ids: list[int], token: str) -> str:
    """Send deliveries the reconciler took back (those it still holds under `token`)."""
    return str(sending.deliver_taken(delivery_ids, uuid.UUID(token)))


@shared_task
def reconcile_deliveries() -> str:
    """Take back what a dead worker left and what waits to retry, and send it again
    (beat, every RECONCILE_INTERVAL_SECONDS), in chunks any worker can run.

    A taken delivery is leased to its chunk: if the chunk is lost before it runs,
    the lease runs out and the next reconcile takes it again.
    """
    token, ids = sending.take_back(limit=settings.RECONCILE_BATCH_SIZE)
    for chunk in sending.chunked(ids, settings.DIGEST_CHUNK_SIZE):
        send_taken.delay(chunk, str(token))
    if ids:
        logger.warning("took back %d deliveries (retries, or left by a lost worker)", len(ids))
    return f"took back {len(ids)}"


@shared_task
def refresh_reader_models() -> str:
    """Nightly (beat): fit the text representation on the stored papers again, then
    train the models of the readers whose feedback changed (every reader's when the
    representation did), in chunks any worker can run."""
    _, changed = personal.fit_representation()
    ids = personal.readers_to_train(everyone=changed)
    for chunk in sending.chunked(ids, settings.LEARNING_CHUNK_SIZE):
        train_readers.delay(chunk)
    said = "changed" if changed else "unchanged"
    return f"representation {said}; {len(ids)} readers to train"


@shared_task(autoretry_for=_DATABASE_ERRORS, retry_backoff=5, max_retries=3)
def train_readers(subscriber_ids: list[int]) -> str:
    """Train these readers' models again (their papers vectorized once for all)."""
    counts = personal.train_readers(subscriber_ids)
    return ", ".join(f"{what} {n}" for what, n in sorted(counts.items())) or "nobody"


@shared_task(autoretry_for=_DATABASE_ERRORS, retry_backoff=5, max_retries=3)
def train_reader(subscriber_id: int) -> str:
    """One reader's model after a click, so their next preview and digest follow it."""
    return train_readers([subscriber_id])
