"""Our own HTTP GET for feeds: a timeout, a size cap, a User-Agent naming us,
and conditional requests (ETag / Last-Modified), so an unchanged feed costs a 304.

feedparser has its own HTTP client, but no timeout or size cap; it only ever
gets the bytes this module returns.
"""

import http.client
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from digest.sources.records import FeedError

USER_AGENT = "Paperboy/1.0 (paper digest service)"
_SCHEMES = ("http", "https")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    status: int
    body: bytes
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    # urllib follows redirects to ftp:// too; a feed server must not send us off the web.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme not in _SCHEMES:
            raise FeedError(f"{req.full_url} redirects to {newurl!r}, which is not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_HttpOnlyRedirects)


def _too_large(url: str, max_bytes: int) -> FeedError:
    return FeedError(f"response from {url} is larger than {max_bytes} bytes")


def _timed_out(url: str, timeout: float) -> FeedError:
    return FeedError(
        f"no complete answer from {url} within {timeout:g} s (timeout)", transient=True
    )


# Answers that may well be different in a minute: rate limits, overload, outages.
_TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
# Enough of an error answer to read a reason from it (arXiv explains a bad query
# in a feed sent with HTTP 400), never the whole of a huge error page.
_ERROR_BODY_BYTES = 64 * 1024


class HTTPStatusError(FeedError):
    """The server answered with an error status; `body` holds the start of its answer."""

    def __init__(self, url: str, status: int, reason: str, body: bytes) -> None:
        super().__init__(
            f"HTTP {status} {reason} from {url}", transient=status in _TRANSIENT_STATUSES
        )
        self.status = status
        self.body = body


def _error_body(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(_ERROR_BODY_BYTES) if error.fp else b""
    except (OSError, http.client.HTTPException):
        return b""


def _read_capped(
    stream: http.client.HTTPResponse, max_bytes: int, deadline: float, url: str, timeout: float
) -> bytes:
    chunks, size = [], 0
    # One byte past the cap is enough to know the body is too large.
    # read1, not read: read(n) waits for all n bytes, so a server dripping a byte
    # at a time would pass the per-read socket timeout forever. read1 returns what
    # one receive brought, and the whole body gets a deadline.
    while size <= max_bytes and (chunk := stream.read1(min(_CHUNK, max_bytes + 1 - size))):
        size += len(chunk)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _timed_out(url, timeout)
    if size > max_bytes:
        raise _too_large(url, max_bytes)
    return b"".join(chunks)


def _gunzip_capped(data: bytes, max_bytes: int, url: str) -> bytes:
    # A small gzip body can inflate to gigabytes: cap what comes out, not what went in.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(data, max_bytes + 1)
    except zlib.error as error:
        raise FeedError(f"response from {url} is not valid gzip: {error}") from None
    if len(body) > max_bytes:
        raise _too_large(url, max_bytes)
    if not inflater.eof:
        raise FeedError(f"response from {url} is cut-off gzip")
    return body


def _decode(body: bytes, encoding: str, max_bytes: int, url: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return _gunzip_capped(body, max_bytes, url)
    if encoding not in ("", "identity"):
        raise FeedError(f"response from {url} has Content-Encoding {encoding!r}, asked for gzip")
    return body


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 20,
    max_bytes: int = 20 * 1024 * 1024,
    user_agent: str = USER_AGENT,
) -> FetchResult:
    """GET `url`. Raises FeedError, with the reason, for anything but a usable answer.

    `timeout` bounds connecting, each read, and reading the whole body.
    `max_bytes` caps the body both as sent and after gzip decoding.
    """
    if urlsplit(url).scheme not in _SCHEMES:
        raise FeedError(f"only http and https feeds can be fetched, not {url!r}")
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    deadline = time.monotonic() + timeout
    try:
        with _opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _too_large(url, max_bytes)
            body = _read_capped(response, max_bytes, deadline, url, timeout)
            encoding = response.headers.get("Content-Encoding", "")
            return FetchResult(
                status=response.status,
                body=_decode(body, encoding, max_bytes, url),
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except urllib.error.HTTPError as error:
        body = _error_body(error) if error.code != 304 else b""
        error.close()
        if error.code == 304:
            return FetchResult(
                status=304,
                body=b"",
                etag=error.headers.get("ETag", etag),
                last_modified=error.headers.get("Last-Modified", last_modified),
                not_modified=True,
            )
        raise HTTPStatusError(url, error.code, error.reason, body) from None
    except TimeoutError:
        raise _timed_out(url, timeout) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _timed_out(url, timeout) from None
        raise FeedError(f"cannot reach {url}: {error.reason}", transient=True) from None
    except http.client.HTTPException as error:  # a broken-off or garbled response
        raise FeedError(f"bad HTTP response from {url}: {error!r}", transient=True) from None
    except OSError as error:  # connection reset and the like
        raise FeedError(f"fetching {url} failed: {error}", transient=True) from None
    except ValueError as error:
        raise FeedError(f"fetching {url} failed: {error}") from None
