"""Fetching sources for real over HTTP: retries, one run per source, backfill, the command."""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


# --- Only public addresses, at every hop (issue 11, finding 7) ---


def port_of(server) -> int:
    return int(server.base.rsplit(":", 1)[1])


def test_a_source_at_a_loopback_address_is_refused_without_a_request(settings, fixture_bytes):
    settings.FETCH_ALLOWED_HOSTS = []
    with serve() as server:
        source = only_source(
            server.url("/rss", Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")))
        )
        tasks.fetch_source.delay(source.pk)

    assert server.requests == []
    source.refresh_from_db()
    assert source.last_status == "error"
    assert "127.0.0.1 is a loopback address" in source.last_error
    assert source.consecutive_failures == 1  # recorded once: a refusal is not retried
    assert Paper.objects.count() == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://2130706433:{port}/internal",  # 127.0.0.1, written as one number
        "http://127.1:{port}/internal",
        "http://[::ffff:127.0.0.1]:{port}/internal",
        "http://10.0.0.1/internal",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_a_source_redirected_to_an_address_that_is_not_public_ingests_nothing(
    fixture_bytes, target
):
    with serve() as server:
        internal = Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"))
        server.url("/internal", internal)  # on the same 127.0.0.1: reached if followed
        location = target.format(port=port_of(server))
        source = only_source(server.url("/rss", Route(status=302, headers={"Location": location})))
        outcome = ingest.fetch_source(source)

    assert [request["path"] for request in server.requests] == ["/rss"]
    assert "feeds are fetched from public addresses only" in outcome.error
    source.refresh_from_db()
    assert (source.last_status, source.last_error) == ("error", outcome.error)
    assert Paper.objects.count() == 0


# --- A Source's error says what went wrong, never what the answer said ---


@contextmanager
def raw_server(answer: bytes) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that answers every connection with `answer` (not
    necessarily HTTP: Redis says "-ERR …"), then closes it; yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stopping = threading.Event()

    def serve_forever() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join()
        listener.close()


SECRET = "INTERNAL ADMIN PANEL token=s3cr3t"


@pytest.mark.parametrize(
    ("kind", "route", "shown"),
    [
        (
            "arxiv_rss",
            Route(body=f"<!doctype html><html><title>{SECRET}</title><body>x</body>".encode()),
            "not an RSS/Atom feed: got an HTML page",
        ),
        ("hf_daily", Route(body=f'{{"error": "{SECRET}"}}'.encode()), "Hugging Face answered"),
        (
            "hf_page",
            Route(
                body=f"<!doctype html><html><head><title>{SECRET}</title></head></html>".encode()
            ),
            "no DailyPapers data and no paper cards",
        ),
    ],
    ids=["html-page-title", "hugging-face-error-object", "hugging-face-page-title"],
)
def test_a_source_error_never_quotes_the_answer(kind, route, shown):
    with serve() as server:
        source = only_source(server.url("/feed", route), kind=kind)
        ingest.fetch_source(source)

    source.refresh_from_db()
    assert source.last_status == "error"
    assert shown in source.last_error
    assert "s3cr3t" not in source.last_error and "INTERNAL" not in source.last_error


@pytest.mark.parametrize(
    "answer",
    [
        f"-ERR unknown command 'GET', {SECRET}\r\n".encode(),  # Redis, spoken to in HTTP
        f"HTTP/1.1 403 {SECRET}\r\nContent-Length: 0\r\n\r\n".encode(),  # its own reason phrase
    ],
    ids=["not-http", "reason-phrase"],
)
def test_a_source_error_never_quotes_what_a_server_that_is_not_http_sent(answer):
    with raw_server(answer) as base:
        source = only_source(f"{base}/feed", kind="feed")
        ingest.fetch_source(source)

    source.refresh_from_db()
    assert source.last_status == "error"
    assert source.last_error
    assert "s3cr3t" not in source.last_error and "INTERNAL" not in source.last_error


# --- One bad item never costs the rest of the feed (issue 11, finding 8) ---


def hf_item(paper_id: str, upvotes: object = 3, comments: object = 1) -> dict:
    paper = {"id": paper_id, "title": f"Paper {paper_id}", "summary": "An abstract."}
    return {"paper": {**paper, "upvotes": upvotes}, "numComments": comments}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (hf_item("2611.00003", upvotes=-1), "upvotes -1 is outside 0..2147483647, left out"),
        (hf_item("2611.00003", upvotes=10**12), "upvotes 1000000000000 is outside"),
        (hf_item("2611.00003", comments=2**31), "comments 2147483648 is outside"),
    ],
    ids=["upvotes-1", "upvotes-10**12", "comments-2**31"],
)
def test_a_count_the_column_cannot_hold_is_left_out_and_the_feed_stored(bad, reason):
    feed = [hf_item("2611.00001"), bad, hf_item("2611.00002", upvotes=8)]
    with serve() as server:
        route = Route(body=json.dumps(feed).encode())
        source = only_source(server.url("/api/daily_papers", route), kind="hf_daily")
        outcome = ingest.fetch_source(source)

    assert not outcome.error
    counts = dict(Paper.objects.values_list("canonical_id", "upvotes"))
    assert counts["2611.00001"] == 3 and counts["2611.00002"] == 8
    assert "2611.00003" in counts  # the paper itself is good: only its count is unknown
    source.refresh_from_db()
    assert source.last_status == "ok"
    assert f"2611.00003: {reason}" in source.last_problems


def test_an_item_with_a_link_longer_than_its_column_is_dropped_and_the_rest_stored():
    long_link = "https://journal.example/articles/" + "x" * 500
    entries = [
        ("https://journal.example/a/1", "doi:10.1234/good.1"),
        (long_link, "doi:10.1234/too.long"),
        ("https://journal.example/a/2", "doi:10.1234/good.2"),
    ]
    items = "".join(
        f"<item><title>Paper {doi}</title><link>{link}</link><guid>{doi}</guid></item>"
        for link, doi in entries
    )
    feed = f'<rss version="2.0"><channel><title>A journal</title>{items}</channel></rss>'
    with serve() as server:
        source = only_source(server.url("/rss", Route(body=feed.encode())), kind="feed")
        outcome = ingest.fetch_source(source)

    assert not outcome.error
    assert set(Paper.objects.values_list("canonical_id", flat=True)) == {
        "doi:10.1234/good.1",
        "doi:10.1234/good.2",
    }
    source.refresh_from_db()
    assert (source.last_status, source.last_dropped) == ("ok", 1)
    assert source.last_summary == "2 new, 0 updated, 0 unchanged, 1 dropped"
    assert source.last_problems == (
        "doi:10.1234/too.long: dropped, abs_url is longer than 500 characters"
    )


def test_a_database_error_while_storing_is_an_error_on_the_source(monkeypatch):
    # A value the checks let through (here: none are checked) is refused by PostgreSQL.
    monkeypatch.setattr(ingest, "check_records", passing_everything, raising=False)
    feed = [hf_item("2611.00001"), hf_item("2611.00002", upvotes=10**12)]
    with serve() as server:
        route = Route(body=json.dumps(feed).encode())
        source = only_source(server.url("/api/daily_papers", route), kind="hf_daily")
        result = tasks.fetch_source.delay(source.pk).get()

    source.refresh_from_db()
    assert result.startswith("error: could not store the papers (database error")
    assert source.last_status == "error"
    assert source.last_error.startswith("could not store the papers (database error, DataError")
    assert (source.consecutive_failures, source.fetch_lease_until) == (1, None)
    assert Paper.objects.count() == 0  # all or nothing, as with a feed that fails to parse


def test_an_unexpected_failure_while_ingesting_is_an_error_on_the_source(
    monkeypatch, fixture_bytes
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ingest, "upsert", broken)
    with serve() as server:
        source = only_source(
            server.url("/rss", Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")))
        )
        tasks.fetch_source.delay(source.pk)

    source.refresh_from_db()
    assert source.last_status == "error"
    assert "failed unexpectedly (RuntimeError)" in source.last_error


def passing_everything(records):
    from digest.record_checks import Checked

    return Checked(records=list(records))
