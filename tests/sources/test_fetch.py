"""Our HTTP fetch against a real HTTP server on 127.0.0.1: validators and 304,
errors, size cap, gzip, timeouts, and which URLs it refuses (schemes here;
addresses that are not public in test_addresses.py)."""

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.sources import arxiv_rss
from digest.sources import fetch as fetching
from digest.sources.fetch import FetchResult
from digest.sources.records import FeedError
from tests.support import FeedServer, Route, serve

FEED = (Path(__file__).parents[1] / "fixtures" / "arxiv-rss-2026-cs.LG.xml").read_bytes()
LAST_MODIFIED = "Mon, 27 Apr 2026 04:00:01 GMT"


def fetch(url: str, **options) -> FetchResult:
    # The test server listens on 127.0.0.1, a loopback address only an allowed name may use.
    return fetching.fetch(url, allowed_hosts=["127.0.0.1"], **options)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with serve() as running:
        yield running


def test_it_returns_the_body_and_captures_the_etag_and_last_modified(server):
    url = server.url(
        "/rss/cs.LG", Route(body=FEED, etag='"v1"', headers={"Last-Modified": LAST_MODIFIED})
    )

    result = fetch(url)

    assert result == FetchResult(
        status=200, body=FEED, etag='"v1"', last_modified=LAST_MODIFIED, not_modified=False
    )
    assert arxiv_rss.parse(result.body)[0].canonical_id == "2604.21952"


def test_it_names_itself_in_the_user_agent_and_asks_for_gzip(server):
    fetch(server.url("/feed", Route(body=FEED)))
    fetch(server.url("/feed", Route(body=FEED)), user_agent="Paperboy-test/0")

    assert server.requests[0]["User-Agent"] == "Paperboy/1.0 (paper digest service)"
    assert server.requests[0]["Accept-Encoding"] == "gzip"
    assert server.requests[1]["User-Agent"] == "Paperboy-test/0"


def test_without_validators_it_sends_no_conditional_headers(server):
    fetch(server.url("/feed", Route(body=FEED)))

    assert "If-None-Match" not in server.requests[0]
    assert "If-Modified-Since" not in server.requests[0]


def test_a_matching_etag_gets_a_304_with_no_body_and_keeps_the_validators(server):
    url = server.url("/feed", Route(body=FEED, etag='"v1"'))

    result = fetch(url, etag='"v1"', last_modified=LAST_MODIFIED)

    assert result == FetchResult(
        status=304, body=b"", etag='"v1"', last_modified=LAST_MODIFIED, not_modified=True
    )
    assert server.requests[0]["If-None-Match"] == '"v1"'
    assert server.requests[0]["If-Modified-Since"] == LAST_MODIFIED


def test_a_changed_etag_gets_the_new_body(server):
    result = fetch(server.url("/feed", Route(body=FEED, etag='"v2"')), etag='"v1"')

    assert (result.status, result.not_modified, result.etag) == (200, False, '"v2"')
    assert result.body == FEED


@pytest.mark.parametrize(("status", "reason"), [(503, "Service Unavailable"), (404, "Not Found")])
def test_an_http_error_is_a_feed_error_naming_the_status_and_url(server, status, reason):
    url = server.url("/feed", Route(status=status, body=b"busy"))

    with pytest.raises(FeedError, match=f"HTTP {status} {reason} from {url}"):
        fetch(url)


@pytest.mark.parametrize("content_length", [True, False], ids=["announced", "unannounced"])
def test_a_body_over_the_size_cap_is_refused(server, content_length):
    url = server.url("/big", Route(body=b"x" * 5000, content_length=content_length))

    with pytest.raises(FeedError, match="larger than 1000 bytes"):
        fetch(url, max_bytes=1000)


def test_a_body_exactly_at_the_size_cap_is_accepted(server):
    url = server.url("/feed", Route(body=b"x" * 1000, content_length=False))

    assert len(fetch(url, max_bytes=1000).body) == 1000


def test_a_gzip_response_is_decoded(server):
    route = Route(body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})

    assert fetch(server.url("/feed", route)).body == FEED


def test_a_gzip_bomb_is_refused_by_the_size_it_inflates_to(server):
    route = Route(body=gzip.compress(b"\0" * 2_000_000), headers={"Content-Encoding": "gzip"})

    with pytest.raises(FeedError, match="larger than 100000 bytes"):
        fetch(server.url("/bomb", route), max_bytes=100_000)


def test_a_cut_off_gzip_body_is_a_feed_error(server):
    route = Route(body=gzip.compress(FEED)[:500], headers={"Content-Encoding": "gzip"})

    with pytest.raises(FeedError, match="cut-off gzip"):
        fetch(server.url("/feed", route))


@pytest.mark.parametrize(
    "route",
    [
        Route(body=FEED, delay=3),
        # Each byte comes well within the socket timeout; the whole body never would.
        Route(body=FEED, drip=0.1),
    ],
    ids=["slow-to-answer", "dripping-byte-by-byte"],
)
def test_a_server_slower_than_the_timeout_is_a_feed_error(server, route):
    url = server.url("/slow", route)
    started = time.monotonic()

    with pytest.raises(FeedError, match="timeout"):
        fetch(url, timeout=0.5)
    assert time.monotonic() - started < 2


def test_a_closed_port_is_a_feed_error():
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(FeedError, match="cannot reach"):
        fetch(f"http://127.0.0.1:{port}/feed", timeout=2)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/feed", "/etc/passwd", "data:,x", ""]
)
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(FeedError, match="only http and https"):
        fetch(url)


def test_a_redirect_to_another_http_path_is_followed(server):
    server.url("/new", Route(body=FEED))
    url = server.url("/old", Route(status=301, headers={"Location": f"{server.base}/new"}))

    assert fetch(url).body == FEED


def test_a_redirect_off_the_web_is_refused(server):
    url = server.url("/old", Route(status=302, headers={"Location": "ftp://example.org/feed"}))

    with pytest.raises(FeedError, match="not http"):
        fetch(url)
