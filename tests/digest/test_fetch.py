"""Our HTTP fetch against a real local server: timeouts, size cap, 304, errors."""

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.sources.fetch import USER_AGENT, fetch
from digest.sources.records import FeedError
from tests.support import Route, serve


def test_it_returns_the_body_and_the_validators(fixture_bytes):
    body = fixture_bytes("arxiv-rss-2026-cs.LG.xml")
    routes = {
        "/feed": Route(
            body=body, etag='"abc"', headers={"Last-Modified": "Mon, 27 Apr 2026 04:00:01 GMT"}
        )
    }
    with serve(routes) as (base, requests):
        result = fetch(f"{base}/feed")

    assert result.status == 200
    assert result.body == body
    assert (result.etag, result.last_modified) == ('"abc"', "Mon, 27 Apr 2026 04:00:01 GMT")
    assert requests[0]["User-Agent"] == USER_AGENT


def test_an_unchanged_feed_costs_a_304_and_no_body():
    with serve({"/feed": Route(body=b"<rss/>", etag='"abc"')}) as (base, requests):
        result = fetch(f"{base}/feed", etag='"abc"', last_modified="Mon, 27 Apr 2026 04:00:01 GMT")

    assert result.not_modified
    assert result.body == b""
    assert requests[0]["If-Modified-Since"] == "Mon, 27 Apr 2026 04:00:01 GMT"


def test_a_server_error_is_a_feed_error_naming_the_status():
    routes = {"/feed": Route(status=503, body=b"busy")}
    with serve(routes) as (base, _), pytest.raises(FeedError, match="HTTP 503"):
        fetch(f"{base}/feed")


def test_a_body_over_the_size_cap_is_refused():
    routes = {"/feed": Route(body=b"x" * 5000)}
    with serve(routes) as (base, _), pytest.raises(FeedError, match="larger than 1000 bytes"):
        fetch(f"{base}/feed", max_bytes=1000)


def test_a_gzip_bomb_is_refused_by_what_it_inflates_to():
    bomb = gzip.compress(b"\0" * 2_000_000)
    routes = {"/feed": Route(body=bomb, headers={"Content-Encoding": "gzip"})}
    with serve(routes) as (base, _), pytest.raises(FeedError, match="larger than 100000 bytes"):
        fetch(f"{base}/feed", max_bytes=100_000)


def test_a_gzip_response_is_decoded(fixture_bytes):
    body = fixture_bytes("arxiv-rss-2026-cs.LG.xml")
    routes = {"/feed": Route(body=gzip.compress(body), headers={"Content-Encoding": "gzip"})}
    with serve(routes) as (base, _):
        assert fetch(f"{base}/feed").body == body


def test_a_server_that_never_answers_hits_the_timeout():
    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(2)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(FeedError, match="timeout"):
            fetch(f"http://127.0.0.1:{server.server_port}/feed", timeout=0.3)
        assert time.monotonic() - started < 1.5
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_host_is_a_feed_error():
    with pytest.raises(FeedError, match="cannot reach"):
        fetch("http://127.0.0.1:9/feed", timeout=2)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed", "/etc/passwd"])
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(FeedError, match="only http and https"):
        fetch(url)
