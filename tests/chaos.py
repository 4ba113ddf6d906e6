"""A deployment on one machine, and the faults it meets, for the fault tests
(tests/reliability/test_faults.py) and bench/chaos.py.

A run: due subscribers in the database, a real SMTP server (aiosmtpd) that misbehaves
as told, real `celery worker` processes and a real `celery beat` on a broker (the
configured one, or a Redis server the run starts itself), the workers sending through
Django's SMTP backend. Faults are injected while mail goes out; then every recovery
path runs (beat's dispatch and reconciler) until nothing is left to do, and the
server's mailbox is judged per subscriber by Message-ID: exactly one, none, or
several different ones; a copy that came again with the same Message-ID (allowed: a
receiver can collapse it) is counted apart.
"""

import asyncio
import contextlib
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from digest.models import Delivery, Paper
from subscriptions.models import Interest, Subscriber
from tests.support import wait_for
from tests.workers import ROOT

# What the workers and beat of a run are told: fast beats, short leases and retries,
# and a short SMTP timeout, so a run recovers in seconds what takes minutes for real.
TIMINGS = {
    "EMAIL_TIMEOUT": "1",
    "DELIVERY_LEASE_SECONDS": "7",
    "DIGEST_RETRY_DELAYS_SECONDS": "1,1,2,2,3,3,5,5",
    "DISPATCH_INTERVAL_SECONDS": "2",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "FETCH_INTERVAL_MINUTES": "100000",  # no feed fetches: the papers are there
    "BEAT_LEASE_SECONDS": "10",
    # Chunks smaller than a deployment's, so that a run has more chunks than the workers
    # hold at once and a fault lands between hand-overs, not after the last one was taken.
    "DIGEST_CHUNK_SIZE": "50",
}
WORKER_APP_NAME = "paperboy-worker"  # the workers' application_name on PostgreSQL


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SMTPFaults:
    """How the server treats each recipient. Shares are of recipients, drawn by address
    (so the same addresses every run), each recipient getting at most one fault."""

    greylist: float = 0  # 451, then 421, at RCPT TO on the first `greylist_attempts` tries
    greylist_attempts: int = 2
    after_data: float = 0  # 451 or 421 after DATA on the first try: not taken
    reset: float = 0  # connection dropped before the reply to DATA on the first try: not taken
    late_reply: float = 0  # taken, then the 250 comes after the client's timeout, first try
    late_seconds: float = 2.5
    seconds_per_message: float = 0  # a slower server, so kills land mid-stream

    def fault_of(self, address: str) -> str | None:
        draw = (zlib.crc32(address.encode()) % 10_000) / 10_000
        for name in ("greylist", "after_data", "reset", "late_reply"):
            share = getattr(self, name)
            if draw < share:
                return name
            draw -= share
        return None


class FaultySMTPHandler:
    """aiosmtpd handler: accepts every message but as SMTPFaults says; records what it
    accepted as (recipient, Message-ID)."""

    def __init__(self, faults: SMTPFaults) -> None:
        self.faults = faults
        self.accepted: list[tuple[str, str]] = []
        self.tries: Counter = Counter()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        with self.lock:
            self.tries[address] += 1
            tries = self.tries[address]
        if self.faults.fault_of(address) == "greylist" and tries <= self.faults.greylist_attempts:
            if tries % 2:
                return "451 4.7.1 Greylisted, please try again later"
            return "421 4.7.0 Try again later, closing connection"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.faults.seconds_per_message:
            await asyncio.sleep(self.faults.seconds_per_message)
        (recipient,) = envelope.rcpt_tos
        fault = self.faults.fault_of(recipient)
        first_try = self.tries[recipient] == 1
        if first_try and fault == "after_data":
            if zlib.crc32(recipient.encode()) % 2:
                return "451 4.3.0 Temporary failure, try again later"
            return "421 4.3.2 Service shutting down, try again later"
        if first_try and fault == "reset":
            server.transport.abort()
            return "451 never read: the connection is gone"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.accepted.append((recipient, str(message["Message-ID"])))
        if first_try and fault == "late_reply":
            await asyncio.sleep(self.faults.late_seconds)
        return "250 2.0.0 Accepted"


# aiosmtpd logs every command at INFO: thousands of lines a run.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class SMTPServer:
    def __init__(self, faults: SMTPFaults) -> None:
        self.handler = FaultySMTPHandler(faults)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def accepted(self) -> list[tuple[str, str]]:
        with self.handler.lock:
            return list(self.handler.accepted)

    def __enter__(self) -> "SMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class RedisServer:
    """A redis-server of the run's own on a free port, that can be killed -9 and started
    again on the same port (with nothing kept, as the CI machine's Redis)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        ready = wait_for(lambda: self._answers(), timeout=10, interval=0.05)
        assert ready, "redis-server did not start"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Scenario:
    name: str
    smtp: SMTPFaults = field(default_factory=SMTPFaults)
    kill_main: int = 0  # SIGKILL a worker's main process this many times (and start another)
    kill_child: int = 0  # SIGKILL a pool process this many times
    redis_restarts: int = 0  # kill -9 the broker + cache Redis, and start it again
    pg_terminations: int = 0  # pg_terminate_backend on the workers' connections
    duplicate_chunks: bool = False  # every chunk enqueued twice, two dispatchers at once


@dataclass
class Result:
    scenario: str
    expected: int
    exactly_once: int
    duplicate_message_ids: int  # Message-IDs beyond the first, per subscriber
    same_id_resends: int  # copies that came again with a Message-ID already received
    lost: int
    wrongly_suppressed: int
    faults_injected: int
    seconds: float
    unrecorded: int = 0  # messages received whose delivery does not say sent, with that id

    def row(self) -> dict:
        return self.__dict__.copy()


def populate(count: int, prefix: str = "reader") -> list[Subscriber]:
    """`count` due subscribers, each following a topic of the one paper of the window."""
    now = timezone.now()
    Paper.objects.create(
        canonical_id="2612.00001",
        title="Robust anomaly detection for streaming sensor data",
        abstract="We study anomaly detection under distribution shift.",
        abs_url="https://arxiv.org/abs/2612.00001",
        first_seen=now - timedelta(hours=1),
    )
    people = Subscriber.objects.bulk_create(
        Subscriber(
            email=f"{prefix}{n}@example.com",
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
            next_digest_at=now - timedelta(minutes=1),
        )
        for n in range(count)
    )
    Interest.objects.bulk_create(Interest(subscriber=p, text="anomaly detection") for p in people)
    return people


class Deployment:
    """Workers and one beat on a queue of the run's own; kills and restarts."""

    def __init__(self, start_worker: Callable, folder: Path, env: dict[str, str]) -> None:
        self.start_worker = start_worker
        self.folder = folder
        self.env = env
        self.workers: list = []
        self.beat: subprocess.Popen | None = None

    def add_worker(self, concurrency: int = 2):
        worker = self.start_worker(concurrency=concurrency, **self.env)
        self.workers.append(worker)
        return worker

    def wait_ready(self) -> None:
        for worker in self.workers:
            worker.wait_ready()

    def start_beat(self) -> None:
        log = (self.folder / "beat.log").open("w")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            **self.workers[0].env,
            "PGAPPNAME": "paperboy-beat",
        }
        self.beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.worker_app", "beat",
             "--loglevel", "INFO", "--schedule", str(self.folder / "beat-schedule")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def live(self) -> list:
        return [w for w in self.workers if w.process.poll() is None and "ready." in w.log]

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill_all()
        if self.beat is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.beat.pid, signal.SIGKILL)
            self.beat.wait(timeout=10)


def _terminate_worker_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [WORKER_APP_NAME],
        )
        return cursor.fetchone()[0]


class FaultInjector(threading.Thread):
    """Injects the scenario's process and service faults at random moments while mail goes
    out: each when the server has accepted a randomly drawn share of the mail."""

    def __init__(self, scenario, deployment, smtp, redis, expected, rng) -> None:
        super().__init__(daemon=True)
        self.scenario, self.deployment, self.smtp, self.redis = scenario, deployment, smtp, redis
        faults = (
            ["kill_main"] * scenario.kill_main
            + ["kill_child"] * scenario.kill_child
            + ["redis"] * scenario.redis_restarts
            + ["postgres"] * scenario.pg_terminations
        )
        rng.shuffle(faults)
        moments = sorted(rng.uniform(0.03, 0.85) * expected for _ in faults)
        self.plan = list(zip(moments, faults, strict=True))
        self.rng = rng
        self.injected = 0
        self.errors: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        try:
            for moment, fault in self.plan:
                reached = wait_for(
                    lambda m=moment: self.done.is_set() or len(self.smtp.accepted) >= m,
                    timeout=120,
                )
                if self.done.is_set():
                    return  # everything went out first: `injected` says how many landed
                if not reached:
                    self.errors.append(f"{fault} at {moment:.0f} accepted: mail stopped coming")
                    return
                self.inject(fault)
                self.injected += 1
        except Exception as error:  # reported by the run
            self.errors.append(repr(error))
        finally:
            self.done.set()

    def inject(self, fault: str) -> None:
        if fault in ("kill_main", "kill_child"):
            live = wait_for(self.deployment.live, timeout=60)
            assert live, "no live worker to kill"
            worker = self.rng.choice(live)
            if fault == "kill_main":
                # The main process only, as when the OOM killer picks it: its pool may
                # finish what it holds, orphaned.
                os.kill(worker.process.pid, signal.SIGKILL)
                worker.process.wait(timeout=10)
                self.deployment.add_worker()
            else:
                children = worker.pool_children()
                if children:
                    os.kill(self.rng.choice(children), signal.SIGKILL)
        elif fault == "redis":
            self.redis.kill()
            time.sleep(self.rng.uniform(0.3, 1.5))
            self.redis.start()
        elif fault == "postgres":
            _terminate_worker_backends()


def _quiet(expected: int) -> bool:
    pending = Delivery.objects.filter(status__in=Delivery.PENDING).exists()
    due = Subscriber.objects.filter(
        status=Subscriber.Status.ACTIVE, next_digest_at__lte=timezone.now()
    ).exists()
    return not pending and not due and Delivery.objects.count() >= expected


def judge(scenario: Scenario, people, accepted, injected: int, seconds: float) -> Result:
    ids_by_recipient: dict[str, list[str]] = defaultdict(list)
    for recipient, message_id in accepted:
        ids_by_recipient[recipient].append(message_id)
    distinct = {r: set(ids) for r, ids in ids_by_recipient.items()}
    emails = {p.email for p in people}
    sent = dict(
        Delivery.objects.filter(status=Delivery.Status.SENT).values_list(
            "subscriber__email", "esp_message_id"
        )
    )
    return Result(
        scenario=scenario.name,
        expected=len(emails),
        exactly_once=sum(1 for e in emails if len(distinct.get(e, ())) == 1),
        duplicate_message_ids=sum(len(ids) - 1 for ids in distinct.values() if len(ids) > 1),
        same_id_resends=len(accepted) - sum(len(ids) for ids in distinct.values()),
        lost=sum(1 for e in emails if not distinct.get(e)),
        wrongly_suppressed=Subscriber.objects.filter(status=Subscriber.Status.SUPPRESSED).count(),
        faults_injected=injected,
        seconds=round(seconds, 1),
        unrecorded=sum(1 for e, ids in distinct.items() if sent.get(e) not in ids),
    )


def run(
    scenario: Scenario,
    people: list[Subscriber],
    start_worker: Callable,
    folder: Path,
    *,
    workers: int = 2,
    concurrency: int = 2,
    seed: int = 2026,
    timeout: float = 240,
) -> Result:
    """Run `scenario` on `people` (due, in the database) until nothing is left to do."""
    rng = random.Random(seed)
    redis = RedisServer(folder) if scenario.redis_restarts else None
    with SMTPServer(scenario.smtp) as smtp:
        env = {
            **TIMINGS,
            "EMAIL_BACKEND": "config.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "PGAPPNAME": WORKER_APP_NAME,
        }
        if redis is not None:
            redis.start()
            env |= {"CELERY_BROKER_URL": redis.url, "REDIS_URL": redis.url}
        deployment = Deployment(start_worker, folder, env)
        try:
            for _ in range(workers):
                deployment.add_worker(concurrency)
            deployment.wait_ready()
            started = time.monotonic()
            injector = FaultInjector(scenario, deployment, smtp, redis, len(people), rng)
            injector.start()
            if scenario.duplicate_chunks:
                _dispatch_twice(deployment, people)
            deployment.start_beat()
            finished = wait_for(lambda: _quiet(len(people)), timeout=timeout, interval=0.5)
            injector.done.set()
            injector.join(timeout=30)
            # In-flight conversations (a late reply) end; nothing new may start.
            time.sleep(3)
            accepted = smtp.accepted
            seconds = time.monotonic() - started
        finally:
            deployment.stop()
            if redis is not None:
                redis.kill()
    result = judge(scenario, people, accepted, injector.injected, seconds)
    if not finished or injector.errors:
        states = Counter(Delivery.objects.values_list("status", flat=True))
        raise AssertionError(
            f"{scenario.name} did not finish within {timeout} s: deliveries {dict(states)}, "
            f"injector {injector.errors}, {result}"
        )
    return result


def _dispatch_twice(deployment: Deployment, people) -> None:
    """Every chunk enqueued twice, and two dispatches at once, as a beat that fired twice
    and a broker that delivered twice would."""
    worker_env = deployment.workers[0].env
    client = Celery(broker=worker_env["CELERY_BROKER_URL"], set_as_current=False)
    if worker_env["CELERY_BROKER_URL"].startswith("filesystem://"):
        client.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    queue = worker_env["CELERY_QUEUE"]
    now = timezone.now().isoformat()
    ids = [person.pk for person in people]
    with client.connection_for_write() as conn:
        for start in range(0, len(ids), 50):
            for _ in range(2):
                client.send_task(
                    "digest.tasks.send_digests", (ids[start : start + 50], now),
                    queue=queue, connection=conn,
                )  # fmt: skip
        for _ in range(2):
            client.send_task("digest.tasks.dispatch_digests", queue=queue, connection=conn)
