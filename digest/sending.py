"""Who is due, and sending each one exactly one digest per period.

`send_digest` claims a Delivery row (unique on subscriber + period) in the same
transaction that moves the subscriber's next_digest_at forward, and only the
task that created the row renders and sends. A retried, duplicated or
concurrent task finds the row, or finds the subscriber no longer due, and
sends nothing.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digest import compose, schedule
from digest.models import Delivery
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)


def due_subscriber_ids(now: datetime) -> list[int]:
    """Active subscribers whose next digest time has passed (one indexed query)."""
    return list(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE, next_digest_at__lte=now)
        .order_by("next_digest_at")
        .values_list("pk", flat=True)
    )


def chunked(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _window_start(subscriber: Subscriber, now: datetime) -> datetime:
    """Where this digest's papers start: where the last delivered digest ended.

    Only digests that went out (or had nothing to send) count, so the papers
    of a failed run are carried into the next one instead of being lost.
    """
    last = (
        Delivery.objects.filter(
            subscriber=subscriber, status__in=[Delivery.Status.SENT, Delivery.Status.EMPTY]
        )
        .order_by("-window_end")
        .values_list("window_end", flat=True)
        .first()
    )
    return last or now - timedelta(days=settings.DIGEST_FIRST_LOOKBACK_DAYS)


@dataclass(frozen=True)
class Preview:
    """What a subscriber would receive if their digest went out now, and why."""

    window_start: datetime
    window_end: datetime
    interests: list[str]
    items: list[compose.DigestItem]

    @property
    def shown(self) -> list[compose.DigestItem]:
        return self.items[: settings.DIGEST_MAX_PAPERS]


def preview(subscriber: Subscriber, now: datetime | None = None) -> Preview:
    """The digest `subscriber` would get now; nothing is claimed, sent or recorded."""
    now = now or timezone.now()
    start = _window_start(subscriber, now)
    interests = [interest.text for interest in subscriber.interests.all()]
    papers = compose.papers_first_seen_between(start, now)
    items = compose.select_items(interests, papers, subscriber.categories)
    return Preview(start, now, interests, items)


def claim(subscriber_id: int, now: datetime) -> Delivery | None:
    """Claim the subscriber's due period; None when not due or already claimed."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if (
            subscriber is None
            or subscriber.status != Subscriber.Status.ACTIVE
            or subscriber.next_digest_at is None
            or subscriber.next_digest_at > now
        ):
            return None
        period = schedule.period_of(
            subscriber.next_digest_at, subscriber.frequency, subscriber.time_zone
        )
        delivery, created = Delivery.objects.get_or_create(
            subscriber=subscriber,
            period=period,
            defaults={
                "window_start": _window_start(subscriber, now),
                "window_end": now,
                "claimed_at": now,
            },
        )
        subscriber.schedule_after(max(now, subscriber.next_digest_at))
        subscriber.save(update_fields=["next_digest_at"])
    return delivery if created else None


def send_digest(subscriber_id: int, now: datetime | None = None) -> Delivery | None:
    """Claim and send this subscriber's due digest. Returns the Delivery it claimed, if any."""
    now = now or timezone.now()
    delivery = claim(subscriber_id, now)
    if delivery is not None:
        deliver(delivery)
    return delivery


def deliver(delivery: Delivery) -> None:
    """Render and send a claimed delivery, recording the outcome on it.

    A failure is recorded on the Delivery (visible in the admin) and raised
    as DeliveryFailed so the task can retry it later; its papers stay in the
    next digest's window meanwhile, since only delivered digests move it.
    """
    subscriber = delivery.subscriber
    # The last check: an address unsubscribed or suppressed since the claim
    # (or since a failed attempt) gets nothing.
    subscriber.refresh_from_db(fields=["status", "paused_until", "categories"])
    if subscriber.status != Subscriber.Status.ACTIVE or subscriber.is_paused(delivery.window_end):
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SKIPPED)
        delivery.status = Delivery.Status.SKIPPED
        return
    interests = [interest.text for interest in subscriber.interests.all()]
    papers = compose.papers_first_seen_between(delivery.window_start, delivery.window_end)
    items = compose.select_items(interests, papers, subscriber.categories)
    if not items and not settings.DIGEST_SEND_EMPTY:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.EMPTY)
        delivery.status = Delivery.Status.EMPTY
        return
    delivery.papers.set([item.paper for item in items[: settings.DIGEST_MAX_PAPERS]])
    message = compose.build_digest_message(subscriber, items, delivery.pk, delivery.period)
    try:
        message.send()
    except Exception as error:
        delivery.status = Delivery.Status.FAILED
        delivery.error = f"{type(error).__name__}: {error}"
        delivery.attempts += 1
        delivery.save(update_fields=["status", "error", "attempts"])
        raise DeliveryFailed(delivery.pk, delivery.attempts) from error
    # An anymail ESP reports its own message id; other backends keep ours.
    esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    delivery.esp_message_id = str(esp_id) if esp_id else message.extra_headers["Message-ID"]
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.attempts += 1
    delivery.error = ""
    delivery.save(update_fields=["esp_message_id", "status", "sent_at", "attempts", "error"])


class DeliveryFailed(Exception):
    def __init__(self, delivery_id: int, attempts: int) -> None:
        super().__init__(f"delivery {delivery_id} failed (attempt {attempts})")
        self.delivery_id = delivery_id
        self.attempts = attempts


def reclaim_failed(delivery_id: int) -> Delivery | None:
    """Take a failed delivery back for another attempt; None if another task has it.

    A conditional UPDATE is the lock: of two retries racing, one moves the row
    from failed to claimed and the other updates nothing.
    """
    taken = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.CLAIMED
    )
    if not taken:
        return None
    return Delivery.objects.select_related("subscriber").get(pk=delivery_id)
