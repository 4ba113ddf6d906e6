"""The send journal: each digest's state on its own Delivery row, one committed write
at a time, so a dead worker, a dropped database connection or a lost Redis loses at
most the one message in flight, and never sends a digest twice with different content.

    claimed ──mark_sending──▶ sending ──(hand-over)──▶ mark_sent ──▶ sent
       │                        │
       │                        └─ failed attempt ─▶ retry (lease_until = when) ─┐
       ├─ close_unsent ─▶ empty / skipped          └─▶ failed (gave up)          │
       └─ mark_in_feed ─▶ feed (feed only: nothing handed over)                  │
                                                                                  │
    take_back: claimed or sending past its lease (its worker died), retry whose   │
    time has come ◀───────────────────────────────────────────────────────────────┘

Every write is conditional on the claim's token (`lease_token`), so of two workers
that both think they hold a delivery, one writes and the other learns it lost it.
"sending" is committed before the hand-over and "sent" right after it: a row still
"sending" when its lease runs out may have reached the provider, and is sent again
only with the same Message-ID (its items are kept, so the content is the same too).
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, F, Q, TextField, Value, When
from django.utils import timezone

from digest.models import Delivery
from digest.send_errors import SendError
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Waits between tries of a write whose connection dropped; a write that still fails
# leaves its row as it was, for the reconciler.
_RECONNECT_WAITS = (0.1, 0.5, 1, 2, 4)

CLAIMED, SENDING, SENT, RETRY, FAILED, FEED = (
    Delivery.Status.CLAIMED,
    Delivery.Status.SENDING,
    Delivery.Status.SENT,
    Delivery.Status.RETRY,
    Delivery.Status.FAILED,
    Delivery.Status.FEED,
)


LOST_IN_HAND_OVER = (
    "the worker was lost while handing it over (the server may have it): "
    "sent again with the same Message-ID"
)


def lease() -> timedelta:
    """How long a worker holds a delivery it claimed, or is handing over (a setting)."""
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def retry_delays() -> list[int]:
    """Seconds to wait before each retry of a transient failure (a setting)."""
    return settings.DIGEST_RETRY_DELAYS_SECONDS


def new_token() -> uuid.UUID:
    return uuid.uuid4()


def committed(write: Callable[[], T]) -> T:
    """Run `write` (one statement, or one short transaction) on its own commit; when the
    database connection dropped, reconnect and run it again. Writes passed here are
    idempotent: running one twice leaves the row as running it once."""
    for wait in (*_RECONNECT_WAITS, None):
        try:
            return write()
        except (OperationalError, InterfaceError) as error:
            if wait is None or connection.in_atomic_block:
                raise
            logger.warning("database write failed (%s); reconnecting in %s s", error, wait)
            connection.close()
            time.sleep(wait)
    raise AssertionError("unreachable")


# The two writes every digest makes are plain SQL: the ORM would build the same UPDATE
# for each of thousands of digests, and take longer building it than the database
# takes to run it. Values go through the fields' own adaptation, as with the ORM.
_TABLE = Delivery._meta.db_table


def _db(field: str, value: object) -> object:
    return Delivery._meta.get_field(field).get_db_prep_value(value, connection)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@dataclass
class Write:
    """One conditional statement of the journal, and what it does to the row in memory
    once committed (with the statement's row count). `sql` and `params` when it is
    plain SQL."""

    run: Callable[[], int]
    done: Callable[[int], None]
    sql: str = ""
    params: list | None = None
    # Writes of one kind to different rows go as one statement (on PostgreSQL, see
    # _statements): the kind (its statement for many rows, with what all its rows
    # share) and this write's row of values, its id first.
    bulk: "_Bulk | None" = None
    row: tuple = ()


def _plain(
    sql: str,
    params: list,
    done: Callable[[int], None],
    bulk: "_Bulk | None" = None,
    row: tuple = (),
) -> Write:
    return Write(lambda: _execute(sql, params), done, sql, params, bulk, row)


@dataclass(frozen=True)
class _Bulk:
    """One UPDATE for many rows, each with values of its own: `head` (with its
    `head_params`) SETs from `v` (the rows, named by `columns`, typed by `types`),
    `where` and its `shared` params add the conditions every row shares; it returns
    the ids it changed."""

    head: str
    head_params: tuple
    columns: tuple[str, ...]
    types: tuple[str, ...]
    where: str
    shared: tuple = ()

    def statement(self, rows: list[tuple]) -> tuple[str, list]:
        first = "(" + ", ".join(f"%s::{kind}" for kind in self.types) + ")"
        rest = "(" + ", ".join(["%s"] * len(self.types)) + ")"
        values = ", ".join([first] + [rest] * (len(rows) - 1))
        sql = (
            f"UPDATE {_TABLE} AS d SET {self.head} FROM (VALUES {values}) "
            f"AS v({', '.join(self.columns)}) WHERE d.id = v.id AND {self.where} RETURNING d.id"
        )
        return sql, [*self.head_params, *(value for row in rows for value in row), *self.shared]


def _several_statements_at_once() -> bool:
    """PostgreSQL with client-side binding (Django's default) takes several statements
    in one query; server-side binding (prepared statements) does not."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def _groups(writes: list[Write]) -> list[list[Write]]:
    """`writes` in runs of one bulk kind (a run of one: its own statement)."""
    groups: list[list[Write]] = []
    for write in writes:
        if groups and write.bulk is not None and groups[-1][0].bulk == write.bulk:
            groups[-1].append(write)
        else:
            groups.append([write])
    return groups


def _statements(writes: list[Write]) -> list[int]:
    """Plain-SQL writes as one query of several statements: PostgreSQL runs them in one
    implicit transaction, in one round trip (a transaction block costs four more). The
    writes of one kind in a row are one statement (a batch's "sent", the next batch's
    "sending"): the server parses and plans it once, not once per digest."""
    groups = _groups(writes)
    sql, params = [], []
    for group in groups:
        if len(group) == 1:
            sql.append(group[0].sql)
            params += group[0].params
        else:
            statement, values = group[0].bulk.statement([write.row for write in group])
            sql.append(statement)
            params += values
    counts = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql), params)
        for n, group in enumerate(groups):
            if n:
                cursor.nextset()
            if len(group) == 1:
                counts.append(cursor.rowcount)
            else:
                changed = {row[0] for row in cursor.fetchall()}
                counts += [int(write.row[0] in changed) for write in group]
    return counts


def commit(writes: list[Write]) -> list[int]:
    """Run `writes` in one transaction, one commit for all (a digest's "sent" and the
    next one's "sending": one flush of the database's log, not two); the whole of it again
    when the connection dropped, each write being idempotent. Their row counts."""

    def run() -> list[int]:
        if len(writes) == 1:
            return [writes[0].run()]
        if _several_statements_at_once() and all(write.sql for write in writes):
            return _statements(writes)
        with transaction.atomic(savepoint=False):
            return [write.run() for write in writes]

    counts = committed(run)
    for write, count in zip(writes, counts, strict=True):
        write.done(count)
    return counts


def sending(delivery: Delivery, token: uuid.UUID, items_json: str, more_count: int) -> Write:
    """The write that records `delivery` as about to be handed over, with what it holds
    (its items, as JSON text, each item serialized once); it changes no row when the
    claim is no longer this token's (another worker took it back)."""
    attempts = delivery.attempts + 1
    items = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"UPDATE {_TABLE} SET status = %s, attempts = %s, items = {items}, more_count = %s, "
        "lease_until = %s WHERE id = %s AND lease_token = %s AND status IN (%s, %s)"
    )
    until = _db("lease_until", timezone.now() + lease())
    held_by = _db("lease_token", token)
    params = [SENDING, attempts, items_json, more_count, until, delivery.pk]
    params += [held_by, CLAIMED, SENDING]

    def done(count: int) -> None:
        if count:
            delivery.status, delivery.attempts, delivery.more_count = SENDING, attempts, more_count

    bulk = _Bulk(
        "status = %s, attempts = v.attempts, items = v.items::jsonb, "
        "more_count = v.more_count, lease_until = v.lease_until",
        (SENDING,),
        ("id", "attempts", "items", "more_count", "lease_until"),
        ("bigint", "integer", "text", "integer", "timestamptz"),
        "d.lease_token = %s AND d.status IN (%s, %s)",
        (held_by, CLAIMED, SENDING),
    )
    row = (delivery.pk, attempts, items_json, more_count, until)
    return _plain(sql, params, done, bulk, row)


def mark_sending(delivery: Delivery, token: uuid.UUID, items_json: str, more_count: int) -> bool:
    """Record, committed, that `delivery` is about to be handed over (see `sending`);
    False when the claim is no longer this token's."""
    return bool(commit([sending(delivery, token, items_json, more_count)])[0])


def sent(delivery: Delivery, esp_message_id: str) -> Write:
    """The write that records that the provider took the message."""
    now = timezone.now()
    sql = (
        f"UPDATE {_TABLE} SET status = %s, sent_at = %s, esp_message_id = %s, error = '', "
        "lease_token = NULL, lease_until = NULL WHERE id = %s AND status = %s"
    )
    sent_at = _db("sent_at", now)
    params = [SENT, sent_at, esp_message_id, delivery.pk, SENDING]

    def done(count: int) -> None:
        delivery.status, delivery.esp_message_id, delivery.sent_at = SENT, esp_message_id, now

    return _plain(sql, params, done, _SENT_BULK, (delivery.pk, sent_at, esp_message_id))


# What every "sent" write of a batch shares: one statement for them all (_statements).
_SENT_BULK = _Bulk(
    "status = %s, sent_at = v.sent_at, esp_message_id = v.esp_message_id, error = '', "
    "lease_token = NULL, lease_until = NULL",
    (SENT,),
    ("id", "sent_at", "esp_message_id"),
    ("bigint", "timestamptz", "text"),
    "d.status = %s",
    (SENDING,),
)


def in_feed(delivery: Delivery, token: uuid.UUID, items_json: str, more_count: int) -> Write:
    """The write that records a feed-only digest as done, with its items (digest.feeds
    serves them); it changes no row when the claim is no longer this token's. `sent_at`
    is when it joined the feed."""
    now = timezone.now()
    items = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"UPDATE {_TABLE} SET status = %s, items = {items}, more_count = %s, sent_at = %s, "
        "error = '', lease_token = NULL, lease_until = NULL "
        "WHERE id = %s AND lease_token = %s AND status = %s"
    )
    params = [FEED, items_json, more_count, _db("sent_at", now), delivery.pk]
    params += [_db("lease_token", token), CLAIMED]

    def done(count: int) -> None:
        if count:
            delivery.status, delivery.more_count, delivery.sent_at = FEED, more_count, now

    return _plain(sql, params, done)


def mark_in_feed(delivery: Delivery, token: uuid.UUID, items_json: str, more_count: int) -> bool:
    """Record a feed-only digest as done (see `in_feed`), in one committed write; False
    when the claim is no longer this token's."""
    return bool(commit([in_feed(delivery, token, items_json, more_count)])[0])


def mark_sent(delivery: Delivery, esp_message_id: str) -> None:
    """Record that the provider took the message: right after the hand-over."""
    commit([sent(delivery, esp_message_id)])


def failure(delivery: Delivery, token: uuid.UUID, error: SendError) -> tuple[Write, bool]:
    """The write that records a failed attempt: to retry later while attempts remain and
    the failure is temporary, else failed for good; and whether it will be retried.

    An attempt that failed before the hand-over (rendering) counts as one too, so a
    digest that can never be built stops being tried.
    """
    attempts = delivery.attempts if delivery.status == SENDING else delivery.attempts + 1
    delays = retry_delays()
    retrying = error.transient and attempts <= len(delays)
    if retrying:
        status, until, text = RETRY, timezone.now() + timedelta(seconds=delays[attempts - 1]), ""
    else:
        status, until = FAILED, None
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        text = f"gave up after {tries}: " if error.transient else ""
    text += error.reply
    if error.maybe_sent:
        text += " (the server may have it: the next attempt carries the same Message-ID)"

    def run() -> int:
        return Delivery.objects.filter(
            pk=delivery.pk, lease_token=token, status__in=[CLAIMED, SENDING]
        ).update(
            status=status,
            attempts=attempts,
            error=text,
            maybe_sent=True if error.maybe_sent else F("maybe_sent"),
            lease_token=None,
            lease_until=until,
        )

    def done(count: int) -> None:
        delivery.status, delivery.attempts, delivery.error = status, attempts, text

    return Write(run, done), retrying


def record_failure(delivery: Delivery, token: uuid.UUID, error: SendError) -> bool:
    """Record a failed attempt (see `failure`). True when it will be retried."""
    write, retrying = failure(delivery, token, error)
    commit([write])
    return retrying


def close_unsent(delivery_ids: list[int], status: str, token: uuid.UUID) -> None:
    """Close deliveries that send nothing (empty, skipped), in one statement."""
    if delivery_ids:
        committed(
            lambda: Delivery.objects.filter(
                pk__in=delivery_ids, lease_token=token, status=CLAIMED
            ).update(status=status, lease_token=None, lease_until=None)
        )


def suppress(subscriber: Subscriber, reason: str) -> None:
    """Send this address nothing more; the first reason stays."""
    if subscriber.mark_suppressed(reason):
        committed(lambda: subscriber.save(update_fields=Subscriber.SUPPRESSION_FIELDS))


def take_back(now: datetime, limit: int) -> tuple[uuid.UUID, list[int]]:
    """Take the deliveries whose time has come, under a new token: claimed or sending
    past their lease (their worker died or hung), or waiting to retry until now.

    Rows another reconciler is taking are skipped (SKIP LOCKED), and the UPDATE
    repeats the conditions, so a worker that renewed its lease meanwhile keeps it.
    One that was "sending" may have reached the provider: it is marked so, and will
    be sent with its own Message-ID and items again.
    """
    token = new_token()
    with transaction.atomic():
        due = Delivery.objects.filter(status__in=Delivery.PENDING, lease_until__lte=now)
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("lease_until")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return token, []
        was_sending = Q(status=SENDING)
        due.filter(pk__in=ids).update(
            maybe_sent=Case(When(was_sending, then=Value(True)), default=F("maybe_sent")),
            error=Case(
                When(was_sending, then=Value(LOST_IN_HAND_OVER)),
                default=F("error"),
                output_field=TextField(),
            ),
            status=CLAIMED,
            lease_token=token,
            lease_until=timezone.now() + lease(),
        )
    return token, ids
