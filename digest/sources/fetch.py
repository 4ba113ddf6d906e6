"""Our own HTTP GET for feeds: a timeout, a size cap, a User-Agent naming us,
and conditional requests (ETag / Last-Modified), so an unchanged feed costs a 304.

Only public addresses are fetched (`addresses`): each hop, the first URL and
every redirect, is resolved once, checked, and connected to at the checked
address. No proxy is used: it would make the connection for us, unchecked.

Errors say what went wrong (a status, a timeout, the kind of answer), never
what the answer said: whatever a server sends must not come back to the
admin through a Source's error text.

feedparser has its own HTTP client, but no timeout or size cap; it only ever
gets the bytes this module returns.
"""

import functools
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from digest.sources.addresses import connect_checked
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
        scheme = urlsplit(newurl).scheme
        if scheme not in _SCHEMES:
            shown = f"a {scheme[:20]}: URL" if scheme else "a URL without a scheme"
            raise FeedError(f"{req.full_url} redirects to {shown}, which is not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


OpenSocket = Callable[[str, int, float | None], socket.socket]


def _timeout(value: object) -> float | None:
    # http.client passes a sentinel object when no timeout was given.
    return value if isinstance(value, int | float) else socket.getdefaulttimeout()


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, open_socket: OpenSocket, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._open_socket = open_socket

    def connect(self) -> None:
        self.sock = self._open_socket(self.host, self.port, _timeout(self.timeout))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, open_socket: OpenSocket, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._open_socket = open_socket

    def connect(self) -> None:
        sock = self._open_socket(self.host, self.port, _timeout(self.timeout))
        # The certificate is checked against the name, the socket goes to the checked address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, open_socket: OpenSocket) -> None:
        super().__init__()
        self._open_socket = open_socket

    def http_open(self, req):
        connection = functools.partial(_CheckedHTTPConnection, open_socket=self._open_socket)
        return self.do_open(connection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, open_socket: OpenSocket) -> None:
        super().__init__(context=ssl.create_default_context())
        self._open_socket = open_socket

    def https_open(self, req):
        connection = functools.partial(_CheckedHTTPSConnection, open_socket=self._open_socket)
        return self.do_open(connection, req, context=self._context)


def _opener(allowed_hosts: Iterable[str]) -> urllib.request.OpenerDirector:
    allowed = frozenset(allowed_hosts)

    def open_socket(host: str, port: int, timeout: float | None) -> socket.socket:
        return connect_checked(host, port, timeout, allowed)

    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # never the environment's proxies
        _CheckedHTTPHandler(open_socket),
        _CheckedHTTPSHandler(open_socket),
        _HttpOnlyRedirects,
    )


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


def _phrase(status: int) -> str:
    # The standard phrase, not the server's: its status line is its own text.
    try:
        return f" {HTTPStatus(status).phrase}"
    except ValueError:
        return ""


class HTTPStatusError(FeedError):
    """The server answered with an error status; `body` holds the start of its answer,
    for a caller that knows the service and can read a reason from it (arXiv)."""

    def __init__(self, url: str, status: int, body: bytes) -> None:
        super().__init__(
            f"HTTP {status}{_phrase(status)} from {url}", transient=status in _TRANSIENT_STATUSES
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
        raise FeedError(f"response from {url} has a Content-Encoding other than the gzip asked for")
    return body


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 20,
    max_bytes: int = 20 * 1024 * 1024,
    user_agent: str = USER_AGENT,
    allowed_hosts: Iterable[str] = (),
) -> FetchResult:
    """GET `url`. Raises FeedError, with the reason, for anything but a usable answer.

    `timeout` bounds connecting, each read, and reading the whole body.
    `max_bytes` caps the body both as sent and after gzip decoding.
    Hosts that are not public are refused (addresses.ForbiddenAddress), at the
    first URL and at every redirect, unless named in `allowed_hosts`.
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
        with _opener(allowed_hosts).open(request, timeout=timeout) as response:
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
        raise HTTPStatusError(url, error.code, body) from None
    except TimeoutError:
        raise _timed_out(url, timeout) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _timed_out(url, timeout) from None
        raise FeedError(f"cannot reach {url}: {error.reason}", transient=True) from None
    except http.client.HTTPException as error:  # a broken-off or garbled response
        # Only the kind of problem: BadStatusLine carries what the server sent.
        kind = type(error).__name__
        raise FeedError(f"bad HTTP response from {url} ({kind})", transient=True) from None
    except OSError as error:  # connection reset and the like
        raise FeedError(f"fetching {url} failed: {error}", transient=True) from None
    except ValueError as error:
        raise FeedError(f"fetching {url} failed ({type(error).__name__})") from None
