"""Fetching sources for real over HTTP: retries, one run per source, backfill, the command."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from digest import ingest, tasks
from digest.models import Paper, Source
from digest.sources import arxiv_api
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _feeds_served_locally(settings):
    """The feed servers of these tests listen on 127.0.0.1, which fetches otherwise refuse."""
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]


def only_source(url: str, name: str = "feed", kind: str = "arxiv_rss") -> Source:
    Source.objects.all().delete()  # the default arXiv sources would go to the internet
    return Source.objects.create(name=name, url=url, kind=kind)


def run_with_retries(source: Source) -> None:
    # Eagerly, as a worker would, each retry at once (its countdown skipped). Celery
    # raises Retry out of an eager task that propagates errors, so propagation is off.
    celery_app.conf.task_eager_propagates = False
    try:
        tasks.fetch_source.delay(source.pk)
    finally:
        celery_app.conf.task_eager_propagates = True


def test_a_transient_failure_is_retried_and_the_feed_then_ingested(fixture_bytes):
    flaky = [
        Route(status=503, body=b"busy"),
        Route(status=502, body=b"bad gateway"),
        Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")),
    ]
    with serve() as server:
        source = only_source(server.url("/rss/cs.LG", flaky))
        run_with_retries(source)

    assert len(server.requests) == 3
    source.refresh_from_db()
    assert (source.last_status, source.consecutive_failures) == ("ok", 0)
    assert source.last_summary == "3 new, 0 updated, 0 unchanged"
    assert Paper.objects.count() == 3


def test_a_permanent_failure_is_recorded_once_and_not_retried():
    with serve() as server:
        source = only_source(server.url("/rss/cs.XX", Route(status=404, body=b"no such feed")))
        tasks.fetch_source.delay(source.pk)

    assert len(server.requests) == 1
    source.refresh_from_db()
    assert source.last_status == "error"
    assert source.last_error.startswith("HTTP 404")
    assert source.consecutive_failures == 1


def test_retries_are_bounded_and_every_failure_is_counted(settings):
    settings.FETCH_MAX_RETRIES = 2
    with serve() as server:
        source = only_source(server.url("/down", Route(status=503)))
        run_with_retries(source)

    assert len(server.requests) == 3
    source.refresh_from_db()
    assert (source.last_status, source.consecutive_failures) == ("error", 3)


def test_arxivs_reason_for_a_bad_category_reaches_the_source(fixture_bytes):
    error_feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel>'
        b"<title>Feed error for query: cs.XY</title><link>http://rss.arxiv.org/rss/cs.XY</link>"
        b"<description>Bad archive/subject class structure: cs.XY</description>"
        b"</channel></rss>"
    )
    with serve() as server:
        source = only_source(server.url("/rss/cs.XY", Route(status=400, body=error_feed)))
        ingest.fetch_source(source)

    source.refresh_from_db()
    assert "HTTP 400" in source.last_error
    assert "Bad archive/subject class structure: cs.XY" in source.last_error


@pytest.mark.django_db(transaction=True)  # the threads' connections must see the source
def test_a_source_being_fetched_is_not_fetched_again_at_the_same_time(fixture_bytes):
    feed = Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"), delay=0.5)
    with serve() as server:
        source = only_source(server.url("/slow", feed))
        outcomes = []

        def fetch_in_a_thread() -> None:
            try:
                outcomes.append(ingest.fetch_source(Source.objects.get(pk=source.pk)))
            finally:
                connection.close()

        threads = [threading.Thread(target=fetch_in_a_thread) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(outcome.busy for outcome in outcomes) == [False, True]
    assert len(server.requests) == 1
    assert Paper.objects.count() == 3
    source.refresh_from_db()
    assert source.fetch_lease_until is None  # released for the next run


def test_a_lease_left_by_a_killed_worker_expires():
    source = only_source("http://127.0.0.1:9/feed")
    Source.objects.filter(pk=source.pk).update(
        fetch_lease_until=timezone.now() - timedelta(seconds=1)
    )

    outcome = ingest.fetch_source(source)

    assert not outcome.busy and outcome.error  # it ran (and found nothing listening)


def api_page(entries: list[tuple[str, str]], total: int, start: int) -> bytes:
    """An arXiv API answer in the 2026 layout, entries given as (id, published)."""
    body = "".join(
        f"<entry><id>http://arxiv.org/abs/{arxiv_id}v1</id><title>Paper {arxiv_id}</title>"
        f"<updated>{published}</updated><published>{published}</published>"
        f"<summary>Abstract of {arxiv_id}.</summary><author><name>A. Author</name></author>"
        f'<arxiv:primary_category term="cs.LG"/><category term="cs.LG"/></entry>'
        for arxiv_id, published in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom"><id>https://arxiv.org/api/x</id>'
        "<title>arXiv Query: search_query=cat:cs.LG</title><updated>2026-11-29T00:00:00Z</updated>"
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>"
        f"<opensearch:itemsPerPage>2</opensearch:itemsPerPage>{body}</feed>"
    ).encode()


def iso(days_ago: float) -> str:
    return (timezone.now() - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_backfill_pages_through_the_arxiv_api_politely_until_the_window_ends(settings):
    settings.ARXIV_API_PAGE_SIZE = 2
    settings.BACKFILL_DELAY_SECONDS = 3
    slept: list[float] = []
    with serve() as server:
        settings.ARXIV_API_URL = f"{server.base}/api/query"

        def page(start: int) -> str:
            url = arxiv_api.query_url(
                settings.ARXIV_API_URL, search_query="cat:cs.LG", start=start, max_results=2
            )
            return url.removeprefix(server.base)

        server.routes[page(0)] = Route(
            body=api_page([("2611.00004", iso(0.5)), ("2611.00003", iso(1.5))], 9, 0)
        )
        server.routes[page(2)] = Route(
            body=api_page([("2611.00002", iso(2.5)), ("2611.00001", iso(9))], 9, 2)
        )
        source = only_source("https://rss.arxiv.org/rss/cs.LG")
        outcome = ingest.backfill_source(source, days=3, sleep=slept.append)

    # Page 2 reaches past the three days: the backfill stops there, page 3 is never asked.
    assert [r["path"] for r in server.requests] == [page(0), page(2)]
    assert slept == [3]
    assert outcome.summary.new == 3
    assert set(source.papers.values_list("canonical_id", flat=True)) == {
        "2611.00004",
        "2611.00003",
        "2611.00002",
    }
    # History is not news: each paper counts as seen when it was published.
    oldest = Paper.objects.get(canonical_id="2611.00002")
    assert oldest.first_seen < timezone.now() - timedelta(days=2)


def test_backfill_of_hugging_face_asks_for_each_day(settings, fixture_bytes):
    settings.BACKFILL_DELAY_SECONDS = 0
    with serve() as server:
        for offset in range(3):
            day = timezone.localdate() - timedelta(days=offset)
            body = fixture_bytes("hf-daily-papers-api.json") if offset == 1 else b"[]"
            server.routes[f"/api/daily_papers?date={day.isoformat()}"] = Route(body=body)
        source = only_source(f"{server.base}/api/daily_papers", kind="hf_daily")
        outcome = ingest.backfill_source(source, days=2, sleep=lambda seconds: None)

    assert not outcome.error
    assert len(server.requests) == 3
    assert outcome.summary.new == 7


def test_a_feed_with_no_history_cannot_be_backfilled_and_says_so():
    source = only_source("https://lab.example.org/feed.xml", kind="feed")

    outcome = ingest.backfill_source(source, days=3)

    assert "cannot backfill" in outcome.error


def test_the_command_shows_progress_and_a_summary_and_fails_when_a_source_failed(
    capsys, fixture_bytes
):
    with serve() as server:
        only_source(server.url("/good", Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"))))
        Source.objects.create(name="zz broken", url=server.url("/gone", Route(status=410)))
        with pytest.raises(CommandError, match="1 source\\(s\\) failed: zz broken"):
            call_command("fetch_papers")

    out = capsys.readouterr().out
    assert "[###############...............] 1/2 feed: 3 new, 0 updated, 0 unchanged" in out
    assert "2/2 zz broken: error: HTTP 410" in out
    assert "Summary: 3 new, 0 updated, 0 skipped (already known, unchanged), 1 errors" in out


def test_the_command_detects_the_kind_of_a_file(capsys, tmp_path, fixture_bytes):
    path = tmp_path / "daily.json"
    path.write_bytes(fixture_bytes("hf-daily-papers-api.json"))

    call_command("fetch_papers", file=path)

    assert "7 new" in capsys.readouterr().out
    assert Paper.objects.filter(upvotes__isnull=False).count() == 7


def test_staff_add_a_source_by_url_and_its_kind_is_detected(admin_client):
    response = admin_client.post(
        reverse("admin:digest_source_add"),
        {"name": "", "url": "huggingface.co/papers/trending", "kind": "", "enabled": "on"},
    )

    assert response.status_code == 302
    source = Source.objects.get(url="https://huggingface.co/papers/trending")
    assert (source.name, source.kind) == ("huggingface.co/papers/trending", "hf_page")


def test_staff_fetch_a_source_now_from_the_admin(
    admin_client, fixture_bytes, django_capture_on_commit_callbacks
):
    feed = Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"))
    with serve() as server, django_capture_on_commit_callbacks(execute=True):
        source = only_source(server.url("/rss", feed))
        response = admin_client.post(
            reverse("admin:digest_source_changelist"),
            {"action": "fetch_now", "_selected_action": [source.pk]},
            follow=True,
        )

    assert "Fetching 1 source(s) in the background" in response.content.decode()
    source.refresh_from_db()
    assert source.last_status == "ok"
    changelist = admin_client.get(reverse("admin:digest_source_changelist")).content.decode()
    assert "3 new, 0 updated, 0 unchanged" in changelist
    papers_of_source = f"/admin/digest/paper/?sources__id__exact={source.pk}"
    assert f'<a href="{papers_of_source}">3</a>' in changelist
    assert admin_client.get(papers_of_source).context["cl"].result_count == 3


def test_a_source_of_the_wrong_kind_says_which_kind_it_looks_like(fixture_bytes):
    daily = Route(body=fixture_bytes("hf-daily-papers-api.json"))
    with serve() as server:
        source = only_source(server.url("/api/daily", daily), kind="feed")
        outcome = ingest.fetch_source(source)

    assert "not well-formed XML" in outcome.error
    assert outcome.error.endswith(
        "(it looks like Hugging Face daily papers (JSON API): is the source's kind right?)"
    )
