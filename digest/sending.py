"""Who is due, and sending each one exactly one digest per period.

`send_digest` claims a Delivery row (unique on subscriber + period) in the same
transaction that moves the subscriber's next_digest_at forward, and only the
task that created the row renders and sends. A retried, duplicated or
concurrent task finds the row, or finds the subscriber no longer due, and
sends nothing.
"""

import json
import logging
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from digest import compose, matching, schedule
from digest.models import Delivery, Paper
from subscriptions.models import Interest, Subscriber

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


# Statuses of a digest that went out (or had nothing to send): the next window starts
# where theirs ended. A failed or skipped digest's papers are carried forward instead.
DONE = [
    Delivery.Status.SENT,
    Delivery.Status.DELIVERED,
    Delivery.Status.BOUNCED,
    Delivery.Status.COMPLAINED,
    Delivery.Status.EMPTY,
]
# A delivery still "claimed" after this long lost its worker (tasks time out in 10 min).
STUCK_AFTER = timedelta(minutes=30)
# The send journal: each digest handed to the provider is noted in the shared cache
# before its row is updated, so a delivery whose worker died in between is never
# sent again. Kept longer than any retry takes.
_JOURNAL_SECONDS = 7 * 24 * 3600


def _journal_key(delivery: Delivery) -> str:
    return f"digest-sent:{delivery.journal_id}"


def _last_window_ends(subscriber_ids: list[int]) -> dict[int, datetime]:
    """Where each subscriber's last delivered digest ended, in one query."""
    rows = (
        Delivery.objects.filter(subscriber_id__in=subscriber_ids, status__in=DONE)
        .values("subscriber_id")
        .annotate(end=Max("window_end"))
    )
    return {row["subscriber_id"]: row["end"] for row in rows}


def _first_window_start(now: datetime) -> datetime:
    return now - timedelta(days=settings.DIGEST_FIRST_LOOKBACK_DAYS)


def _window_start(subscriber: Subscriber, now: datetime) -> datetime:
    """Where this digest's papers start: where the last delivered digest ended.

    Only digests that went out (or had nothing to send) count, so the papers
    of a failed run are carried into the next one instead of being lost.
    """
    return _last_window_ends([subscriber.pk]).get(subscriber.pk) or _first_window_start(now)


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


def claim_many(subscriber_ids: list[int], now: datetime) -> list[Delivery]:
    """Claim the due period of each subscriber that is due; skip the rest.

    In one transaction: lock the due subscribers (in id order, so two tasks
    never deadlock), create a Delivery for each period not yet claimed, and
    move next_digest_at to the next local send time. A retried, duplicated or
    concurrent task finds the rows, or the subscribers no longer due, and
    claims nothing. A constant number of queries, whatever the chunk's size.
    """
    with transaction.atomic():
        due = list(
            Subscriber.objects.select_for_update()
            .filter(
                pk__in=subscriber_ids,
                status=Subscriber.Status.ACTIVE,
                next_digest_at__lte=now,
            )
            .order_by("pk")
        )
        if not due:
            return []
        periods = {
            s.pk: schedule.period_of(s.next_digest_at, s.frequency, s.time_zone) for s in due
        }
        taken = set(
            Delivery.objects.filter(
                subscriber__in=due, period__in=set(periods.values())
            ).values_list("subscriber_id", "period")
        )
        starts = _last_window_ends([s.pk for s in due])
        claimed = Delivery.objects.bulk_create(
            Delivery(
                subscriber=s,
                period=periods[s.pk],
                window_start=starts.get(s.pk) or _first_window_start(now),
                window_end=now,
                claimed_at=now,
            )
            for s in due
            if (s.pk, periods[s.pk]) not in taken
        )
        for subscriber in due:
            subscriber.schedule_after(max(now, subscriber.next_digest_at))
        Subscriber.objects.bulk_update(due, ["next_digest_at"])
    return claimed


def claim(subscriber_id: int, now: datetime) -> Delivery | None:
    """Claim one subscriber's due period; None when not due or already claimed."""
    claimed = claim_many([subscriber_id], now)
    return claimed[0] if claimed else None


def send_digest(subscriber_id: int, now: datetime | None = None) -> Delivery | None:
    """Claim and send this subscriber's due digest. Returns the Delivery it claimed, if any."""
    now = now or timezone.now()
    delivery = claim(subscriber_id, now)
    if delivery is not None:
        deliver(delivery)
    return delivery


def send_chunk(subscriber_ids: list[int], now: datetime | None = None) -> list["DeliveryFailed"]:
    """Claim and send the due digests of a chunk; returns the failures to retry."""
    return deliver_many(claim_many(subscriber_ids, now or timezone.now()))


class DeliveryFailed(Exception):
    def __init__(self, delivery_id: int, attempts: int, transient: bool = True) -> None:
        kind = "transient" if transient else "permanent"
        super().__init__(f"delivery {delivery_id} failed ({kind}, attempt {attempts})")
        self.delivery_id = delivery_id
        self.attempts = attempts
        self.transient = transient


def classify(error: Exception) -> tuple[bool, bool]:
    """(transient, the address's fault) for an error the email backend raised.

    A refused recipient will be refused again, and is the address's fault: it
    gets suppressed. Other 4xx answers of an API are our request's fault:
    failed, not retried. Everything else (timeouts, connections, 5xx) may work
    later and is retried.
    """
    if isinstance(error, AnymailRecipientsRefused | smtplib.SMTPRecipientsRefused):
        return False, True
    status = getattr(error, "status_code", None)
    if isinstance(error, AnymailAPIError) and status and 400 <= status < 500:
        return status in (408, 429), False
    if isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600:
        return False, False
    return True, False


_windows: dict[tuple, tuple[dict[str, Paper], matching.PaperIndex]] = {}


def _window(start: datetime, end: datetime) -> tuple[dict[str, Paper], matching.PaperIndex]:
    """The papers of a window and their index, read and built once per worker process.

    Every chunk of a dispatch has the same window, so after the first chunk a
    worker only asks whether the window's papers changed (one small query).
    """
    papers = compose.papers_first_seen_between(start, end)
    state = papers.aggregate(count=Count("id"), newest=Max("updated_at"))
    key = (start, end, state["count"], state["newest"])
    if key not in _windows:
        _windows.clear()  # one dispatch at a time; the last window is the one asked again
        loaded = list(papers)
        index = matching.PaperIndex(map(matching.Document.of, loaded))
        _windows[key] = ({paper.canonical_id: paper for paper in loaded}, index)
    return _windows[key]


def deliver_many(deliveries: list[Delivery]) -> list[DeliveryFailed]:
    """Render and send claimed deliveries, recording each outcome on its row.

    The papers of the chunk's windows are read and indexed once, each
    subscriber's interests matched against that index, and every row written
    back in bulk: the number of queries does not grow with the chunk. A
    failure is recorded on its Delivery (visible in the admin) and returned
    for the task to retry later; its papers stay in the next digest's window
    meanwhile, since only delivered digests move it.
    """
    if not deliveries:
        return []
    ids = [delivery.subscriber_id for delivery in deliveries]
    # The last check: an address unsubscribed, paused or suppressed since the claim
    # (or since a failed attempt) gets nothing.
    subscribers = Subscriber.objects.in_bulk(ids)
    interests: dict[int, list[str]] = {}
    for subscriber_id, text in Interest.objects.filter(subscriber_id__in=ids).values_list(
        "subscriber_id", "text"
    ):
        interests.setdefault(subscriber_id, []).append(text)
    start = min(d.window_start for d in deliveries)
    end = max(d.window_end for d in deliveries)
    by_id, index = _window(start, end)
    journal = cache.get_many([_journal_key(d) for d in deliveries])
    connection = get_connection()
    failures: list[DeliveryFailed] = []
    suppressed: list[Subscriber] = []
    mailed: list[tuple[Delivery, list[compose.DigestItem]]] = []
    for delivery in deliveries:
        subscriber = subscribers.get(delivery.subscriber_id)
        if (
            subscriber is None
            or subscriber.status != Subscriber.Status.ACTIVE
            or subscriber.is_paused(delivery.window_end)
        ):
            delivery.status = Delivery.Status.SKIPPED
            continue
        journaled = journal.get(_journal_key(delivery))
        if journaled is not None:  # sent by a worker that died before recording it
            _record_sent(delivery, journaled)
            continue
        items, total = compose.digest_items(
            index,
            by_id,
            interests.get(subscriber.pk, []),
            subscriber.categories,
            window=(delivery.window_start, delivery.window_end),
            whole_index=(start, end) == (delivery.window_start, delivery.window_end),
        )
        if not items and not settings.DIGEST_SEND_EMPTY:
            delivery.status = Delivery.Status.EMPTY
            continue
        delivery.attempts += 1
        try:
            message = compose.build_digest_message(
                subscriber, items, delivery.pk, delivery.period, total=total
            )
            message.connection = connection
            message.send()
        except Exception as error:  # one subscriber's failure never holds up the chunk
            transient, address_fault = classify(error)
            delivery.status = Delivery.Status.FAILED
            delivery.error = _describe(error)
            failures.append(DeliveryFailed(delivery.pk, delivery.attempts, transient))
            if address_fault and subscriber.mark_suppressed(
                f"refused by the provider: {_describe(error)}"
            ):
                suppressed.append(subscriber)
            continue
        # An anymail ESP reports its own message id; other backends keep ours.
        esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
        esp_id = str(esp_id) if esp_id else message.extra_headers["Message-ID"]
        cache.set(_journal_key(delivery), esp_id, _JOURNAL_SECONDS)
        _record_sent(delivery, esp_id)
        delivery.items = compose.items_as_json(items)
        delivery.more_count = total - min(len(items), settings.DIGEST_MAX_PAPERS)
        mailed.append((delivery, items))
    _save_outcomes(deliveries, mailed, suppressed)
    return failures


def _describe(error: Exception) -> str:
    try:
        return f"{type(error).__name__}: {error}"
    except Exception:  # some provider errors cannot describe themselves without a response
        return type(error).__name__


def _record_sent(delivery: Delivery, esp_id: str) -> None:
    delivery.status = Delivery.Status.SENT
    delivery.esp_message_id = esp_id
    delivery.sent_at = timezone.now()
    delivery.error = ""


def _save_outcomes(
    deliveries: list[Delivery],
    mailed: list[tuple[Delivery, list[compose.DigestItem]]],
    suppressed: list[Subscriber],
) -> None:
    sent = [d for d in deliveries if d.status == Delivery.Status.SENT]
    others = [d for d in deliveries if d.status != Delivery.Status.SENT]
    with transaction.atomic():
        # What all sent digests share is one plain UPDATE; what differs per digest
        # is one more statement.
        Delivery.objects.filter(pk__in=[d.pk for d in sent]).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), error=""
        )
        if sent:
            _update_sent(sent)
        if others:
            Delivery.objects.bulk_update(others, ["status", "attempts", "error"])
        _link_papers(
            [
                (d.pk, item.paper.pk)
                for d, items in mailed
                for item in items[: settings.DIGEST_MAX_PAPERS]  # what the email showed
            ]
        )
        if suppressed:
            Subscriber.objects.bulk_update(suppressed, Subscriber.SUPPRESSION_FIELDS)


def _link_papers(pairs: list[tuple[int, int]]) -> None:
    """Record which papers each digest showed: (delivery id, paper id) pairs, one statement.

    On PostgreSQL straight from two arrays, skipping the model instances that
    bulk_create builds (25 per digest); elsewhere bulk_create.
    """
    through = Delivery.papers.through
    if connection.vendor != "postgresql":
        rows = (through(delivery_id=d, paper_id=p) for d, p in pairs)
        through.objects.bulk_create(rows, ignore_conflicts=True)
        return
    if not pairs:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {through._meta.db_table} (delivery_id, paper_id) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
            [[d for d, _ in pairs], [p for _, p in pairs]],
        )


def _update_sent(sent: list[Delivery]) -> None:
    """Write what differs per sent digest (message id, attempts, items), in one statement.

    On PostgreSQL an UPDATE ... FROM (VALUES ...) takes a fraction of the time of
    bulk_update's per-row CASE expressions, which dominate a chunk when each row
    carries its items; other databases use bulk_update.
    """
    if connection.vendor != "postgresql":
        fields = ["esp_message_id", "attempts", "items", "more_count"]
        Delivery.objects.bulk_update(sent, fields)
        return
    rows = ", ".join(["(%s, %s, %s, %s::jsonb, %s)"] * len(sent))
    params = [
        value
        for d in sent
        for value in (d.pk, d.esp_message_id, d.attempts, json.dumps(d.items), d.more_count)
    ]
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET esp_message_id = v.esp, attempts = v.attempts, "
            "items = v.items, more_count = v.more "
            f"FROM (VALUES {rows}) AS v(id, esp, attempts, items, more) WHERE d.id = v.id",
            params,
        )


def deliver(delivery: Delivery) -> None:
    """Send one claimed delivery; raises DeliveryFailed when it failed."""
    failures = deliver_many([delivery])
    if failures:
        raise failures[0]


def reclaim_failed(delivery_id: int) -> Delivery | None:
    """Take a failed delivery back for another attempt; None if another task has it.

    A conditional UPDATE is the lock: of two retries racing, one moves the row
    from failed to claimed and the other updates nothing.
    """
    taken = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.CLAIMED, claimed_at=timezone.now()
    )
    if not taken:
        return None
    return Delivery.objects.select_related("subscriber").get(pk=delivery_id)


def reclaim_stuck(now: datetime | None = None) -> list[Delivery]:
    """Deliveries left "claimed" by a worker that died, taken back to send again.

    Each is taken with a conditional UPDATE on its claimed_at, so two
    reconcilers never take the same one; the send journal keeps a digest that
    did go out from going out twice.
    """
    now = now or timezone.now()
    taken = []
    stale = Delivery.objects.filter(
        status=Delivery.Status.CLAIMED, claimed_at__lt=now - STUCK_AFTER
    )
    for delivery in stale.select_related("subscriber")[:500]:
        moved = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.CLAIMED, claimed_at=delivery.claimed_at
        ).update(claimed_at=now)
        if moved:
            delivery.claimed_at = now
            taken.append(delivery)
    return taken
