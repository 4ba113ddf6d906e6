"""Who is due, and sending each one exactly one digest per period.

`claim_many` creates a Delivery row (unique on subscriber + period) in the same
transaction that moves the subscriber's next_digest_at forward, under a lease
with a token of its own; only the holder of that token renders and sends. A
retried, duplicated or concurrent task finds the row, or the subscriber no
longer due, and sends nothing. `deliver_many` then records each digest on its
row before and after the hand-over (digest/journal.py), and `take_back` gives
what a dead worker left, and what waits to retry, to the reconciler. The whole
promise, and the one window it leaves, is in docs/DELIVERY.md.
"""

import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from digest import (
    analyses,
    compose,
    evaluations,
    health,
    heap,
    journal,
    matching,
    personal,
    schedule,
    window,
)
from digest.handover import Handover, Prepared
from digest.models import Delivery, Paper
from digest.send_errors import SendError, classify
from groups import digests as group_digests
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


# Statuses of a digest that went out (or had nothing to send), or may have: the next
# window starts where theirs ended. A failed or skipped digest's papers are carried
# forward instead.
DONE = [
    Delivery.Status.SENDING,
    Delivery.Status.SENT,
    Delivery.Status.DELIVERED,
    Delivery.Status.BOUNCED,
    Delivery.Status.COMPLAINED,
    Delivery.Status.EMPTY,
    Delivery.Status.FEED,
]


def _last_window_ends(subscriber_ids: list[int]) -> dict[int, datetime]:
    """Where each subscriber's last delivered digest of their own ended, in one query."""
    rows = (
        Delivery.objects.filter(
            subscriber_id__in=subscriber_ids, group__isnull=True, status__in=DONE
        )
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


def preview(
    subscriber: Subscriber, now: datetime | None = None, since: datetime | None = None
) -> Preview:
    """The digest `subscriber` would get now; nothing is claimed, sent or recorded.

    `since` starts the window elsewhere than at the end of their last digest (staff
    look at the last days, whatever was sent already).
    """
    now = now or timezone.now()
    start = since or _window_start(subscriber, now)
    interests = [interest.text for interest in subscriber.interests.all()]
    papers = compose.papers_first_seen_between(start, now)
    # Ranked by the reader's model as their digest would be: a click shows at once.
    model = personal.model_of(subscriber.pk)
    items = compose.select_items(interests, papers, subscriber.categories, model)
    return Preview(start, now, interests, items)


@dataclass
class Claim:
    """Deliveries one task holds, by one token, until their lease runs out."""

    token: uuid.UUID
    deliveries: list[Delivery]


# Why an older digest still waiting to be (re)tried stops when the next one is claimed.
SUPERSEDED = "superseded by the next digest, whose window holds its papers"


def claim_many(subscriber_ids: list[int], now: datetime) -> Claim:
    """Claim the due period of each subscriber that is due; skip the rest.

    In one transaction: lock the due subscribers (in id order, so two tasks
    never deadlock), create a Delivery for each period not yet claimed, and
    move next_digest_at to the next local send time. A retried, duplicated or
    concurrent task finds the rows, or the subscribers no longer due, and
    claims nothing. An older digest of the same subscriber that never went out
    and still waits to be (re)tried is superseded, so its papers come once, in
    the new one. A constant number of queries, whatever the chunk's size.
    `now` ends the windows: take it from window.window_end().
    """
    token = journal.new_token()
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
            return Claim(token, [])
        periods = {
            s.pk: schedule.period_of(s.next_digest_at, s.frequency, s.time_zone) for s in due
        }
        waiting = [Delivery.Status.CLAIMED, Delivery.Status.RETRY]
        existing = list(
            Delivery.objects.filter(subscriber__in=due, group__isnull=True)
            .filter(Q(period__in=set(periods.values())) | Q(status__in=waiting))
            .values_list("pk", "subscriber_id", "period", "status")
        )
        taken = {sub for _, sub, period, _ in existing if period == periods[sub]}
        older = [
            pk for pk, sub, period, status in existing if sub not in taken and status in waiting
        ]
        if older:
            Delivery.objects.filter(pk__in=older, status__in=waiting).update(
                status=Delivery.Status.FAILED, error=SUPERSEDED, lease_token=None, lease_until=None
            )
        new = [s for s in due if s.pk not in taken]
        starts = _last_window_ends([s.pk for s in new])
        # Said in the digest, and so the same in every attempt and in its web copy.
        stale = health.stale_sources(now) if new else []
        lease_until = timezone.now() + journal.lease()
        claimed = Delivery.objects.bulk_create(
            Delivery(
                subscriber=s,
                period=periods[s.pk],
                window_start=starts.get(s.pk) or _first_window_start(now),
                window_end=now,
                claimed_at=now,
                lease_token=token,
                lease_until=lease_until,
                source_note=health.digest_note(s.categories, s.time_zone, stale, now),
            )
            for s in new
        )
        next_times: dict[datetime, list[int]] = {}
        for subscriber in due:
            subscriber.schedule_after_claim(periods[subscriber.pk], now)
            next_times.setdefault(subscriber.next_digest_at, []).append(subscriber.pk)
        # One UPDATE per next send time: subscribers due together mostly share one.
        for next_at, ids in next_times.items():
            Subscriber.objects.filter(pk__in=ids).update(next_digest_at=next_at)
    return Claim(token, claimed)


def claim(subscriber_id: int, now: datetime) -> Claim:
    """Claim one subscriber's due period (none when not due or already claimed)."""
    return claim_many([subscriber_id], now)


@dataclass
class Outcome:
    """What a task did with the deliveries it held: its result, as Celery logs it."""

    counts: Counter = field(default_factory=Counter)
    # Deliveries that did not go out: waiting to retry, or failed for good.
    unsent: list[int] = field(default_factory=list)

    ORDER = (
        "sent",
        "in feed",
        "empty",
        "skipped",
        "retrying",
        "failed",
        "taken by another worker",
    )

    def add(self, what: str, delivery: Delivery | None = None) -> None:
        self.counts[what] += 1
        if delivery is not None and what in ("retrying", "failed"):
            self.unsent.append(delivery.pk)

    def __str__(self) -> str:
        said = [f"{what} {self.counts[what]}" for what in self.ORDER if self.counts[what]]
        return ", ".join(said) or "nothing to send"


def send_digest(subscriber_id: int, now: datetime | None = None) -> Outcome:
    """Claim and send this subscriber's due digest, if any."""
    return send_chunk([subscriber_id], now)


@heap.fewer_passes()  # the claim too (see deliver_many)
def send_chunk(subscriber_ids: list[int], now: datetime | None = None) -> Outcome:
    """Claim and send the due digests of a chunk. `now` is the dispatch's window end."""
    held = claim_many(subscriber_ids, now or window.window_end())
    return deliver_many(held.deliveries, held.token)


_windows: dict[tuple, tuple[dict[str, Paper], matching.PaperIndex]] = {}


def _window(
    start: datetime, end: datetime, interests: list[str]
) -> tuple[dict[str, Paper], matching.PaperIndex]:
    """The papers of a window and their index, read and built once per worker process,
    with the first chunk's `interests` evaluated as it is built.

    Every chunk of a dispatch has the same window, so after the first chunk a
    worker only asks whether the window's papers changed (one small query). At most
    MATCH_KEEP_ANALYSES papers' analyses are kept (a weekly window's would take GBs).
    A big index is frozen out of the cycle collector's passes (heap.py). The papers'
    clauses are taken from what their fetch evaluated (evaluations.py), and their
    analyses, where a clause is still to evaluate, read back from what it stored
    (analyses.py).
    """
    papers = compose.papers_first_seen_between(start, end)
    state = papers.aggregate(count=Count("id"), newest=Max("updated_at"))
    key = (start, end, state["count"], state["newest"])
    if key not in _windows:
        _windows.clear()  # one dispatch at a time; the last window is the one asked again
        loaded = list(papers)
        records = evaluations.records_of(loaded)
        with heap.frozen_when_built(len(loaded) >= heap.FREEZE_FROM):
            index = matching.PaperIndex(
                map(matching.Document.of, loaded),
                interests=interests,
                keep=settings.MATCH_KEEP_ANALYSES or None,
                stored=analyses.StoredAnalyses(loaded),
                evaluated=records,
            )
        # Papers no fetch recorded (fetched before records were kept, or by another
        # path): this window evaluated them whole, so the next windows need not. A
        # record saves work; failing to store one is no reason not to send.
        try:
            evaluations.record(index, [p for p in loaded if p.canonical_id not in records])
        except DatabaseError as error:
            logger.warning("could not record the window's evaluations: %s", error)
        _windows[key] = ({paper.canonical_id: paper for paper in loaded}, index)
    return _windows[key]


class _Papers:
    """What each delivery of a batch holds: its stored items when an earlier attempt
    recorded them (a resend shows the same papers), else its matches in the window;
    and the interests it is for (a digest names those that found nothing): the
    subscriber's own, or its group's."""

    def __init__(
        self,
        deliveries: list[Delivery],
        groups: group_digests.GroupDigests,
        subscribers: dict[int, Subscriber],
    ) -> None:
        self.stored = compose.stored_papers(d for d in deliveries if d.items)
        self.groups = groups
        self.interests: dict[int, list[str]] = {}
        ids = [d.subscriber_id for d in deliveries if d.group_id is None]
        for subscriber_id, text in Interest.objects.filter(subscriber_id__in=ids).values_list(
            "subscriber_id", "text"
        ):
            self.interests.setdefault(subscriber_id, []).append(text)
        # The readers' own models (digest/personal.py); none for a group's digest.
        # (read with the subscribers: no query of its own)
        self.models = personal.models_among(subscribers.get(i) for i in ids)
        fresh = [d for d in deliveries if not d.items]
        if not fresh:
            return
        self.extent = (min(d.window_start for d in fresh), max(d.window_end for d in fresh))
        # Later chunks' new interests are evaluated as each is asked for: prepare()
        # would end each chunk with a full pass of the cycle collector over the
        # worker's whole heap (engine._collector_paused), far more than it saves.
        wanted = [text for d in fresh for text in self.interests_of(d)]
        self.by_id, self.index = _window(*self.extent, wanted)

    def interests_of(self, delivery: Delivery) -> list[str]:
        if delivery.group_id is not None:
            return self.groups.interests_of(delivery)
        return self.interests.get(delivery.subscriber_id, [])

    def of(
        self, delivery: Delivery, subscriber: Subscriber
    ) -> tuple[list[compose.DigestItem], int]:
        if delivery.items:
            items = compose.items_from_json(delivery.items, self.stored)
            return items, min(len(items), settings.DIGEST_MAX_PAPERS) + delivery.more_count
        window = (delivery.window_start, delivery.window_end)
        return compose.digest_items(
            self.index,
            self.by_id,
            self.interests_of(delivery),
            # A group's digest has the group's interests, and no categories of anyone's.
            subscriber.categories if delivery.group_id is None else (),
            window=window,
            whole_index=window == self.extent,
            model=self.models.get(delivery.subscriber_id) if delivery.group_id is None else None,
        )


# A chunk makes many short-lived objects beside the caches' long-lived ones (heap.py).
@heap.fewer_passes()
def deliver_many(deliveries: list[Delivery], token: uuid.UUID) -> Outcome:
    """Render and send the claimed `deliveries` (held by `token`).

    Each digest is recorded "sending" (with its items) before the hand-over and
    "sent" right after it, committed; a failure is recorded on its row to retry later
    or for good (digest/journal.py). The hand-overs share a connection, and overlap
    when the provider is slower than building (digest/handover.py). The papers of the
    batch's windows are read and indexed once, and each subscriber's interests
    matched against that index.
    """
    outcome = Outcome()
    if not deliveries:
        return outcome
    # The last check: an address unsubscribed, paused or suppressed since the claim
    # (or since a failed attempt) gets nothing.
    subscribers = Subscriber.objects.select_related("reader_model").in_bulk(
        [d.subscriber_id for d in deliveries]
    )
    groups = group_digests.GroupDigests(deliveries)
    papers = _Papers(deliveries, groups, subscribers)
    unsent: dict[str, list[int]] = {Delivery.Status.SKIPPED: [], Delivery.Status.EMPTY: []}
    handover = Handover(token, outcome)
    try:
        for delivery in deliveries:
            started = time.perf_counter()
            subscriber = subscribers.get(delivery.subscriber_id)
            if not _still_wanted(delivery, subscriber, groups):
                unsent[Delivery.Status.SKIPPED].append(delivery.pk)
                outcome.add("skipped")
                continue
            items, total = papers.of(delivery, subscriber)
            if not items and not settings.DIGEST_SEND_EMPTY:
                unsent[Delivery.Status.EMPTY].append(delivery.pk)
                outcome.add("empty")
                continue
            # Feed-only is a choice about one's own digests: a group's still comes by email.
            if delivery.group_id is None and subscriber.frequency == Subscriber.Frequency.FEED:
                outcome.add(_record_in_feed(delivery, token, items, total))
                continue
            interests = papers.interests_of(delivery)
            build = groups.build_message if delivery.group_id else compose.build_digest_message
            prepared = _prepare(
                delivery, token, subscriber, items, total, interests, outcome, build
            )
            if prepared is not None:
                handover.add(prepared, time.perf_counter() - started)
        handover.finish()
    finally:
        handover.release()
    for status, ids in unsent.items():
        journal.close_unsent(ids, status, token)
    return outcome


def _still_wanted(
    delivery: Delivery, subscriber: Subscriber | None, groups: group_digests.GroupDigests
) -> bool:
    """Whether the digest is still to go: its own subscription active and not paused,
    or, for a group's digest, the member still in an active group (their own
    subscription, pause and schedule are theirs alone), and the address never
    suppressed."""
    if subscriber is None:
        return False
    if delivery.group_id is not None:
        return groups.still_wanted(delivery, subscriber)
    return subscriber.status == Subscriber.Status.ACTIVE and not subscriber.is_paused(
        delivery.window_end
    )


def _prepare(
    delivery: Delivery,
    token: uuid.UUID,
    subscriber: Subscriber,
    items: list[compose.DigestItem],
    total: int,
    interests: list[str],
    outcome: Outcome,
    build=compose.build_digest_message,
) -> Prepared | None:
    """The digest's message, ready to hand over; None when it could not be built (the
    failure recorded). `build` makes its message: a subscriber's own digest, or a
    group's."""
    try:
        message = build(subscriber, items, delivery, total=total, interests=interests)
    except Exception as error:  # one digest that cannot be built never holds up the chunk
        logger.exception("digest %s could not be built", delivery.pk)
        outcome.add(_failed(delivery, token, subscriber, classify(error)), delivery)
        return None
    shown = min(len(items), settings.DIGEST_MAX_PAPERS)
    return Prepared(delivery, subscriber, message, compose.items_as_json(items), total - shown)


def _record_in_feed(
    delivery: Delivery, token: uuid.UUID, items: list[compose.DigestItem], total: int
) -> str:
    """Keep a feed-only subscriber's digest on its row, for their feed and archive: no
    message, so one conditional write is the whole hand-over. A worker that dies before
    it leaves the row claimed, and the reconciler records it then, once."""
    shown = min(len(items), settings.DIGEST_MAX_PAPERS)
    if not journal.mark_in_feed(delivery, token, compose.items_as_json(items), total - shown):
        return "taken by another worker"
    return "in feed"


def _failed(delivery: Delivery, token: uuid.UUID, subscriber: Subscriber, error: SendError) -> str:
    logger.warning("digest %s to %s: %s (%s)", delivery.pk, subscriber.pk, error.reply, error.kind)
    retrying = journal.record_failure(delivery, token, error)
    if error.refuses_address:
        journal.suppress(subscriber, f"refused by the recipient's server: {error.reply}")
    return "retrying" if retrying else "failed"


def deliver_taken(delivery_ids: list[int], token: uuid.UUID) -> Outcome:
    """Send the deliveries the reconciler took under `token` (those it still holds)."""
    held = Delivery.objects.filter(
        pk__in=delivery_ids, lease_token=token, status=Delivery.Status.CLAIMED
    ).order_by("pk")
    return deliver_many(list(held), token)


def take_back(now: datetime | None = None, limit: int = 500) -> tuple[uuid.UUID, list[int]]:
    """The ids of the deliveries whose time has come, taken under a new token: claimed or
    sending past their lease (a worker died), and those waiting to retry until now.
    Send them with deliver_taken."""
    return journal.take_back(now or timezone.now(), limit)


def retry_now(deliveries: QuerySet[Delivery]) -> int:
    """Give failed deliveries a new round of attempts, sent by the next reconcile with
    their own Message-ID and items. Only a subscriber's latest: an older one's papers
    went into a later digest already."""
    later = Delivery.objects.filter(
        subscriber=OuterRef("subscriber"), claimed_at__gt=OuterRef("claimed_at")
    )
    # A subscriber's own digests and each group's to them follow one another apart.
    own_later = Exists(later.filter(group__isnull=True))
    group_later = Exists(later.filter(group=OuterRef("group")))
    return (
        deliveries.filter(status=Delivery.Status.FAILED)
        .exclude(Q(group__isnull=True) & own_later)
        .exclude(Q(group__isnull=False) & group_later)
        .update(status=Delivery.Status.RETRY, attempts=0, lease_until=timezone.now())
    )
