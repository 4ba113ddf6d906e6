"""A real Celery worker, in its own process, on the configured broker and database.

In CI that is Redis and PostgreSQL; on a laptop without them, kombu's file-system
transport and SQLite. The tests enqueue fetch_all_sources and dispatch_digests
exactly as beat does and wait for the worker to ingest, send and record.
"""

from email import message_from_bytes, policy

import pytest

from digest import tasks
from digest.models import Delivery, Paper, Source
from tests.support import Route, serve, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(start_worker):
    """One real worker; a fetch retried after a transient failure waits 1 s, not a minute,
    and may fetch from the feed servers of these tests on 127.0.0.1."""
    start, outbox = start_worker
    process = start(FETCH_RETRY_BASE_SECONDS="1", FETCH_ALLOWED_HOSTS="127.0.0.1")
    process.wait_ready()
    return outbox, process.process


def test_a_real_worker_dispatches_sends_and_records_the_digest(
    worker, make_subscriber, ingested_papers
):
    outbox, process = worker
    subscriber = make_subscriber(interests=("anomaly detection",))

    tasks.dispatch_digests.delay()

    delivery = wait_for(
        lambda: Delivery.objects.filter(subscriber=subscriber, status=Delivery.Status.SENT).first()
    )
    assert process.poll() is None, "the worker died"
    assert delivery is not None, "no digest was recorded as sent within 60 s"
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == subscriber.email
    assert message["Message-ID"] == delivery.esp_message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        "Performance Anomaly Detection in Athletics" in message.get_body(("plain",)).get_content()
    )
    html = message.get_body(("html",)).get_content()
    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in html
    assert sorted(delivery.paper_ids) == ["2604.21953", "2604.21956"]


def test_a_real_worker_fetches_every_source_and_retries_a_failing_one_later(worker, fixture_bytes):
    _, process = worker
    flaky = [
        Route(status=503, body=b"try later"),
        Route(body=fixture_bytes("hf-daily-papers-api.json")),
    ]
    with serve() as server:
        Source.objects.all().delete()
        Source.objects.create(
            name="arXiv",
            url=server.url("/rss/cs.LG", Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"))),
        )
        Source.objects.create(
            name="Hugging Face", url=server.url("/api/daily_papers", flaky), kind="hf_daily"
        )

        tasks.fetch_all_sources.delay()

        both_ok = wait_for(lambda: Source.objects.filter(last_status="ok").count() == 2)
    assert process.poll() is None, "the worker died"
    assert both_ok, f"sources: {list(Source.objects.values('name', 'last_status', 'last_error'))}"
    hugging_face = Source.objects.get(name="Hugging Face")
    assert hugging_face.consecutive_failures == 0
    assert [r["path"] for r in server.requests].count("/api/daily_papers") == 2
    assert Paper.objects.count() == 3 + 7
