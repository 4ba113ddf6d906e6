"""Handing a chunk's digests to the email backend, each recorded before and after.

Every digest keeps the journal's order (digest/journal.py): "sending" committed,
then the hand-over, then its outcome committed as soon as it is known. Within that:

- A connection is opened once (Django's SMTP backend otherwise connects, greets and
  quits for every message), and again only after a failed hand-over, which may have
  left it unusable (a 421 closes it). A provider's connections outlive the chunk: the
  next chunk of this process takes them (digest/kept_lines.py).
- One commit per digest, not two: a digest's outcome and the next one's "sending"
  share one transaction. The next digest is built before this one is handed over, so
  the outcome is still written the moment the hand-over returns; what waits is the
  next digest's hand-over, by one build (a death then leaves it "sending" that never
  left, sent later with its own Message-ID: the same as a death between any two
  steps).
- Fewer still to a local backend (anymail's test backend, the outbox) whose hand-overs
  are quick (QUICK_HANDOVER_SECONDS): a commit costs more than the hand-over, so digests
  go in batches of up to DIGEST_SEND_CONCURRENCY, each batch "sending" in one commit,
  handed over one after another, and their outcomes written with the next batch's
  "sending" in one commit. The same bound as overlapping: at most that many digests
  handed over and not yet recorded. A slow local backend goes one at a time.
- Those commits wait on the database (a round trip and a flush of its log): on
  PostgreSQL, outside a transaction, each goes to a connection of its own, on a thread
  of its own, while this thread builds the next digests; the digests it records
  "sending" are handed over only once it has come back (the same order, the same
  bound: it is the batch's outcomes and the next batch's "sending" that are out).
- Several at once when the provider answers slower than digests are built (a network
  round trip per SMTP command): up to DIGEST_SEND_CONCURRENCY hand-overs overlap, each
  on a thread with a connection of its own; this process's database connection stays
  on the calling thread, which builds, writes "sending" right before handing a digest
  to a free thread, and writes outcomes as they come back (those that came back
  together in one commit). At most that many digests are ever "sending" and not
  recorded, so a worker killed mid-chunk leaves at most that many to send again with
  their Message-ID. Only for backends that talk to a provider (SMTP, anymail's ESPs):
  a local one (the outbox, a test's) is faster than building anyway.

Whether to overlap is measured: a chunk starts as the last one of this process ended;
it switches when hand-overs take longer than builds, on average, and stays.
"""

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from anymail.backends.base import AnymailBaseBackend
from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection

from digest import journal
from digest.kept_lines import close_quietly, configuration, kept
from digest.models import Delivery
from digest.send_errors import classify
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

# Backends whose hand-over waits on a provider, and may overlap (anymail's test
# backend, an ESP's stand-in that keeps messages in a list, waits on nothing).
NETWORK_BACKENDS = (SMTPBackend, AnymailBaseBackend)
LOCAL_BACKENDS = (AnymailTestBackend,)

# A local hand-over quicker than this costs less than the commit that records it
# (a database round trip and a flush of its log): such digests go in batches.
QUICK_HANDOVER_SECONDS = 0.005

# How the last chunk of this process ended: overlapped or not.
_overlapping = {"last": False}
# Whether the last chunk's local hand-overs were quick, by backend: the next chunk
# batches from its first digest on, instead of measuring one alone first (two commits
# more a chunk).
_quick: dict[str, bool] = {}

# Overlapped, digests built while the threads are busy are recorded "sending" together,
# up to this many in one commit with the outcomes that came back: a commit per digest
# cost more CPU than the hand-over's own work (and competes with it for the one core).
OVERLAP_BATCH = 4

# The hand-over threads of this process, kept from chunk to chunk (starting 32
# threads for every chunk of 50 cost more than a tenth of its time); one pool per size.
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            for other in _pools.values():
                other.shutdown(wait=False)
            _pools.clear()
            pool = _pools[size] = ThreadPoolExecutor(size, thread_name_prefix="handover")
        return pool


# The journal's commits of the batches, on a thread (and so a database connection) of
# their own while the calling thread builds the next digests; made when first needed.
_recorders: list[ThreadPoolExecutor] = []


def _recorder() -> ThreadPoolExecutor:
    with _pools_lock:
        if not _recorders:
            _recorders.append(ThreadPoolExecutor(1, thread_name_prefix="journal"))
        return _recorders[0]


def _forked() -> None:
    # A forked child (a Celery pool process) has none of its parent's threads.
    _pools.clear()
    _recorders.clear()


os.register_at_fork(after_in_child=_forked)


def records_aside() -> bool:
    """Whether the journal's commits go to the recorder's connection: when the setting
    says so (DIGEST_RECORD_ASIDE), on PostgreSQL, where a commit is a round trip the
    builds can overlap, and outside a transaction, whose rows another connection would
    not see."""
    return (
        settings.DIGEST_RECORD_ASIDE
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def _close_connection() -> None:
    connection.close()


@dataclass
class _Recording:
    """A commit under way on the recorder's thread: outcomes (what to do once they are
    recorded: `then`) and the "sending" of `next_ones`."""

    future: Future
    then: list[Callable[[], None]]
    next_ones: list


@dataclass
class Prepared:
    """A digest built and ready to go."""

    delivery: Delivery
    subscriber: Subscriber
    message: EmailMessage
    items_json: str
    more_count: int


@dataclass
class _Returned:
    prepared: Prepared
    error: Exception | None
    seconds: float


def _hand_over(line, prepared: Prepared) -> _Returned:
    """One message through `line` (opened if it is not); the error, if any."""
    started = time.perf_counter()
    error = None
    try:
        line.open()  # nothing when open already
        prepared.message.connection = line
        if not prepared.message.send():
            raise ConnectionError("the email backend sent nothing")
    except Exception as failure:
        error = failure
        close_quietly(line)  # the next message opens a fresh one
    return _Returned(prepared, error, time.perf_counter() - started)


class Handover:
    """The hand-overs of one chunk, held by `token`; counts go to `outcome`
    (sending.Outcome). `add` each digest as it is built, then `finish`; `release`
    always (in a finally), which closes the connections."""

    def __init__(self, token: uuid.UUID, outcome, concurrency: int | None = None) -> None:
        self.token, self.outcome = token, outcome
        self.line = get_connection()
        limit = max(1, settings.DIGEST_SEND_CONCURRENCY if concurrency is None else concurrency)
        network = isinstance(self.line, NETWORK_BACKENDS)
        local = not network or isinstance(self.line, LOCAL_BACKENDS)
        # A provider's connections are kept between chunks (kept_lines); a local
        # backend's cost nothing to open.
        self.key = None if local else configuration()
        if self.key is not None:
            self.line = kept.take(self.key)
        self.limit = 1 if local else limit
        # A quick local hand-over costs less than a commit: then a local backend's
        # digests go in batches of up to `limit`, one commit for a batch's outcomes
        # and the next batch's "sending" (_batch_size).
        self.batch = limit if local else 1
        self.waiting: list[Prepared] = []  # "sending", handed over when the next are built
        self.recording: _Recording | None = None  # the last batch's commit, if still out
        self.aside = records_aside()
        self.recorded_aside = False  # whether the recorder's connection served this chunk
        self.pending: list[Prepared] = []  # built, their "sending" not written yet
        self.pool: ThreadPoolExecutor | None = None
        self.in_flight: set[Future] = set()
        self.lines: list = []  # every connection the threads opened
        self.idle: list = []
        self.lock = threading.Lock()
        self.built = self.handed = 0
        self.build_seconds = self.handover_seconds = 0.0

    # -- the calling thread --------------------------------------------------------

    def add(self, prepared: Prepared, build_seconds: float) -> None:
        """Hand `prepared` over, in its turn."""
        self.built += 1
        self.build_seconds += build_seconds
        if self.pool is None and self._should_overlap():
            self._recorded()
            self._start_pool()
        self.pending.append(prepared)
        if self.pool is not None:
            # Up to OVERLAP_BATCH at a time, fewer when fewer threads are free; while all
            # are out, the next ones are built meanwhile.
            free = self.limit - sum(not future.done() for future in self.in_flight)
            batch = min(OVERLAP_BATCH, self.limit)
            if len(self.pending) >= min(batch, free or batch):
                self._next_overlapped()
            return
        if len(self.pending) >= self._batch_size():
            self._next_batch()

    def finish(self) -> None:
        """Hand over what waits and record every outcome."""
        while self.pool is not None and self.pending:
            self._next_overlapped()
        self._recorded()
        while self.waiting or self.pending:
            self._next_batch()
            self._recorded()
        while self.in_flight:
            self._commit(self._collect(block=True), [])
        if self.handed:
            _overlapping["last"] = self._handover_slower()
            if self.pool is None:
                _quick[settings.EMAIL_BACKEND] = self._quick()

    def release(self) -> None:
        """Wait for any hand-over still out, close every connection; the threads stay
        for the next chunk. After an error nothing more is recorded: what was out stays
        "sending"."""
        if self.pool is not None:
            wait(self.in_flight)
        if self.recording is not None:
            wait([self.recording.future])
        if self.recorded_aside:
            # The recorder's connection is closed with the chunk, as a task's own is.
            _recorder().submit(_close_connection).result()
        if self.key is None:
            close_quietly(self.line)
            return
        lines = self.lines if self.pool is not None else [self.line]
        kept.give_back(self.key, lines)

    def _handover_slower(self) -> bool:
        return self.handover_seconds / self.handed > self.build_seconds / max(self.built, 1)

    def _quick(self) -> bool:
        return self.handover_seconds / self.handed < QUICK_HANDOVER_SECONDS

    def _batch_size(self) -> int:
        # One at a time until a hand-over is measured (in this chunk, or in the last one
        # of this process), and while they are slow (a local backend that waits): each
        # outcome is then written as soon as it is known.
        quick = self._quick() if self.handed else _quick.get(settings.EMAIL_BACKEND, False)
        return self.batch if quick else 1

    def _should_overlap(self) -> bool:
        if self.limit <= 1:
            return False
        return _overlapping["last"] or (self.handed > 0 and self._handover_slower())

    def _start_pool(self) -> None:
        self.pool = _pool(self.limit)
        # The connection opened so far serves one of the threads: no more than `limit`.
        self.lines.append(self.line)
        self.idle.append(self.line)
        for prepared in self.waiting:  # recorded "sending" already: they go first
            self._submit(prepared)
        self.waiting = []

    def _next_overlapped(self) -> None:
        """Record the outcomes that came back and the built digests' "sending" in one
        commit, then give those to the threads: never more than `limit` "sending" and
        not recorded (waiting for a thread to come back when all are out)."""
        returned = self._collect(block=False)
        while self.in_flight and len(self.in_flight) + len(self.pending) > self.limit:
            returned += self._collect(block=True)
        pending, self.pending = self.pending, []
        for prepared in self._commit(returned, pending):
            self._submit(prepared)

    def _next_batch(self) -> None:
        """Hand over the digests waiting (one after another, on the chunk's connection),
        then record their outcomes and the built ones' "sending" in one commit: on the
        recorder's thread when it may (the next digests are built meanwhile, and handed
        over once it has come back: _recorded)."""
        self._recorded()
        returned = []
        for prepared in self.waiting:
            returned.append(_hand_over(self.line, prepared))
            self.handed += 1
            self.handover_seconds += returned[-1].seconds
        pending, self.pending = self.pending, []
        if not self.aside:
            self.waiting = self._commit(returned, pending)
            return
        writes, then = self._writes(returned, pending)
        self.waiting = []
        if writes:
            self.recording = _Recording(_recorder().submit(journal.commit, writes), then, pending)
            self.recorded_aside = True

    def _recorded(self) -> None:
        """Wait for the recorder's commit, if one is out: then its digests recorded
        "sending" wait for their hand-over."""
        recording, self.recording = self.recording, None
        if recording is not None:
            counts = recording.future.result()
            self.waiting = self._kept(recording.then, recording.next_ones, counts)

    def _submit(self, prepared: Prepared) -> None:
        self.in_flight.add(self.pool.submit(self._on_a_line, prepared))

    def _collect(self, block: bool) -> list[_Returned]:
        if not self.in_flight:
            return []
        done, _ = wait(self.in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        self.in_flight -= done
        returned = [future.result() for future in done]
        self.handed += len(returned)
        self.handover_seconds += sum(r.seconds for r in returned)
        return returned

    def _commit(self, returned: list[_Returned], next_ones: list[Prepared]) -> list[Prepared]:
        """Record the outcomes of `returned` and `next_ones` as "sending", in one commit;
        those of `next_ones` still this token's (the others are counted as taken)."""
        writes, then = self._writes(returned, next_ones)
        return self._kept(then, next_ones, journal.commit(writes) if writes else [])

    def _writes(
        self, returned: list[_Returned], next_ones: list[Prepared]
    ) -> tuple[list[journal.Write], list[Callable[[], None]]]:
        """The journal's writes of the outcomes of `returned` and of `next_ones` as
        "sending", and what to do once the outcomes are recorded."""
        writes, then = [], []
        for r in returned:
            write, after = self._outcome(r)
            writes.append(write)
            then.append(after)
        for p in next_ones:
            writes.append(journal.sending(p.delivery, self.token, p.items_json, p.more_count))
        return writes, then

    def _kept(
        self, then: list[Callable[[], None]], next_ones: list[Prepared], counts: list[int]
    ) -> list[Prepared]:
        for after in then:
            after()
        kept = []
        for prepared, count in zip(next_ones, counts[len(then) :], strict=True):
            if count:
                kept.append(prepared)
            else:
                self.outcome.add("taken by another worker")
        return kept

    def _outcome(self, returned: _Returned) -> tuple[journal.Write, Callable[[], None]]:
        delivery, subscriber = returned.prepared.delivery, returned.prepared.subscriber
        if returned.error is None:
            message = returned.prepared.message
            # An anymail ESP reports its own message id; other backends keep ours.
            esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
            esp_id = str(esp_id) if esp_id else message.extra_headers["Message-ID"]
            return journal.sent(delivery, esp_id), lambda: self.outcome.add("sent", delivery)
        error = classify(returned.error)
        write, retrying = journal.failure(delivery, self.token, error)

        def after() -> None:
            logger.warning(
                "digest %s to %s: %s (%s)", delivery.pk, subscriber.pk, error.reply, error.kind
            )
            self.outcome.add("retrying" if retrying else "failed", delivery)
            if error.refuses_address:
                journal.suppress(subscriber, f"refused by the recipient's server: {error.reply}")

        return write, after

    # -- the hand-over threads -----------------------------------------------------

    def _on_a_line(self, prepared: Prepared) -> _Returned:
        with self.lock:
            line = self.idle.pop() if self.idle else None
        if line is None:
            line = kept.take(self.key)
            with self.lock:
                self.lines.append(line)
        try:
            return _hand_over(line, prepared)
        finally:
            with self.lock:
                self.idle.append(line)
