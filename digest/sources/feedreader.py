"""Reading XML feeds (RSS 0.9-2.0, RSS 1.0/RDF, Atom) with feedparser, safely.

Shared by every XML parser: feedparser gets bytes in a file object, never a
str (it would open a path or fetch a URL), its HTML sanitizer is off (it reads
the "<b" of "$a<b$" as a tag; `text.clean_text` strips real tags instead), and
anything short of a whole, well-formed feed is a FeedError. The errors name
the problem, never the content: an HTML page's title or a parser's message
about the bytes could carry whatever the server chose to send.
"""

import functools
import io
import re
from collections.abc import Callable
from typing import TypeVar
from xml.sax import SAXException

import feedparser

from digest.sources.arxiv_xml import Items
from digest.sources.records import FeedError

T = TypeVar("T")

_HTML_PAGE = re.compile(rb"\s*(?:<!doctype html|<html)", re.IGNORECASE)


def require_bytes(data: object) -> bytes:
    """`data` as bytes; a str or anything else is a caller's bug, not a bad feed."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse() takes the feed's bytes, not {type(data).__name__}")
    return bytes(data)


def html_page_error(data: bytes, expected: str) -> FeedError | None:
    """A FeedError when `data` is an HTML page (a proxy's, an outage page, a login form).

    Not its title: that is the page's own text, and a fetch that reached the
    wrong server must not show staff what that server says.
    """
    if not _HTML_PAGE.match(data[:1024]):
        return None
    return FeedError(f"not {expected}: got an HTML page")


def _feedparser(data: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)


def read_feed(
    data: bytes,
    expected: str = "an RSS/Atom feed",
    *,
    read_items: Callable[[bytes], Items | None] | None = None,
) -> feedparser.FeedParserDict:
    """The parsed feed; FeedError for empty, HTML, truncated or non-feed input.

    `read_items` (arxiv_xml.read_items) may read the items faster than feedparser:
    feedparser then reads the feed without them (the channel), and reads the whole
    feed whenever `read_items` declines (None) or the channel alone looks odd.
    """
    if not data.strip():
        raise FeedError(f"empty response: not {expected}")
    if error := html_page_error(data, expected):
        raise error
    if read_items is not None and (items := read_items(data)) is not None:
        feed = _feedparser(items.frame)
        if not feed.get("bozo") and feed.get("version") and not feed.entries:
            feed["entries"] = items.entries
            return _checked(feed, expected)
    return _checked(_feedparser(data), expected)


def _checked(feed: feedparser.FeedParserDict, expected: str) -> feedparser.FeedParserDict:
    # Not well-formed XML (a truncated download): feedparser's lenient fallback
    # would still find the first items, and half a feed would pass as whole.
    if isinstance(feed.get("bozo_exception"), SAXException):
        raise FeedError(f"not {expected}: not well-formed XML ({feed.bozo_exception})")
    if not feed.get("version"):
        raise FeedError(f"not {expected}: no <rss>, <feed> or <rdf:RDF> root")
    if "title" not in feed.feed and not feed.entries:
        raise FeedError(f"not {expected}: no channel title and no items")
    return feed


def guarded(parse_records: Callable[[bytes], T]) -> Callable[[bytes], T]:
    """Decorate a parser so that any unexpected exception on odd input is a FeedError.

    Parsers should never raise anything else: one broken feed must not stop
    the other sources, and its reason must reach the Source's error text.
    """

    @functools.wraps(parse_records)
    def parse(data: bytes) -> T:
        data = require_bytes(data)
        try:
            return parse_records(data)
        except FeedError:
            raise
        except Exception as error:
            # The kind of failure only: its message may quote the input.
            raise FeedError(f"could not read the feed ({type(error).__name__})") from error

    return parse
