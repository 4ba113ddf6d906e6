"""Shared fixtures. Tests run against whatever DATABASE_URL / REDIS_URL name
(PostgreSQL and Redis in CI, SQLite and files on a laptop)."""

import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django.utils import timezone

from config.celery import app as celery_app
from digest import ingest, recent, tasks
from digest.models import Delivery
from subscriptions.models import Interest, Subscriber
from tests.workers import worker_factory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _celery_runs_tasks_inline():
    """Unit tests run tasks in-process; tests/integration starts a real worker instead."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate-limit counters must not leak between tests
    recent.check_again()  # nor the preview's papers, within its recheck second
    yield
    cache.clear()


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / name).read_bytes()


@pytest.fixture
def make_subscriber(db) -> Callable[..., Subscriber]:
    def make(
        email: str = "ada@example.com",
        interests: tuple[str, ...] = ("anomaly detection",),
        status: str = Subscriber.Status.ACTIVE,
        due: bool = True,
        **fields,
    ) -> Subscriber:
        now = timezone.now()
        subscriber = Subscriber.objects.create(
            email=email,
            status=status,
            confirmed_at=now if status == Subscriber.Status.ACTIVE else None,
            next_digest_at=now - timedelta(minutes=1) if due else now + timedelta(hours=1),
            **fields,
        )
        Interest.objects.bulk_create(Interest(subscriber=subscriber, text=t) for t in interests)
        return subscriber

    return make


@pytest.fixture
def time_passes(db) -> Callable[[], str]:
    """Time passes until every pending delivery's wait is over (leases run out, retry
    times come), and beat runs the reconciler; returns what it did."""

    def run() -> str:
        Delivery.objects.filter(status__in=Delivery.PENDING).update(
            lease_until=timezone.now() - timedelta(seconds=1)
        )
        return tasks.reconcile_deliveries()

    return run


@pytest.fixture
def ingested_papers(db, fixture_bytes):
    """The recorded cs.LG feed (three papers), ingested now."""
    return ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.LG.xml"), "arxiv_rss")


@pytest.fixture
def start_worker(tmp_path):
    """(start, outbox): real `celery worker` subprocesses on a queue of this test's own."""
    yield from worker_factory(tmp_path)


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on this machine (aiosmtpd), the EMAIL_* settings pointing at it
    (Paperboy's SMTP backend), and what it received."""
    inbox = Inbox()
    # aiosmtpd checks its own port once started: pick a free one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "config.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield inbox
    finally:
        controller.stop()
