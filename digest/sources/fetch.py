"""Our own HTTP GET for feeds: a timeout, a size cap, a User-Agent naming us,
and conditional requests (ETag / Last-Modified), so an unchanged feed costs a 304.

feedparser has its own HTTP client, but no timeout or size cap; it only ever
gets the bytes this module returns.
"""

import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from digest.sources.records import FeedError

USER_AGENT = "Paperboy/1.0 (research paper digest service)"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    status: int
    body: bytes
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _read_capped(stream, max_bytes: int, url: str) -> bytes:
    chunks, size = [], 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"response from {url} is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _gunzip_capped(data: bytes, max_bytes: int, url: str) -> bytes:
    # A small gzip body can inflate to gigabytes: cap what comes out, not what went in.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(data, max_bytes + 1)
    except zlib.error as error:
        raise FeedError(f"response from {url} is not valid gzip: {error}") from None
    if len(body) > max_bytes:
        raise FeedError(f"response from {url} is larger than {max_bytes} bytes")
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
    """GET `url`. Raises FeedError, with the reason, for anything but a usable answer."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FeedError(f"only http and https feeds can be fetched, not {url!r}")
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = _read_capped(response, max_bytes, url)
            if response.headers.get("Content-Encoding", "").lower() == "gzip":
                body = _gunzip_capped(body, max_bytes, url)
            return FetchResult(
                status=response.status,
                body=body,
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return FetchResult(status=304, body=b"", etag=etag, last_modified=last_modified)
        raise FeedError(f"HTTP {error.code} {error.reason} from {url}") from None
    except TimeoutError:
        raise FeedError(f"no answer from {url} within {timeout:g} s (timeout)") from None
    except urllib.error.URLError as error:
        raise FeedError(f"cannot reach {url}: {error.reason}") from None
    except (OSError, ValueError) as error:
        raise FeedError(f"fetching {url} failed: {error}") from None
