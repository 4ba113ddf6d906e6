"""arXiv's RSS 2.0 feeds, the format rss.arxiv.org serves since 2024.

Each item is one announcement: a new paper, a cross-list, or a replacement
(a new version of an older paper). The description starts with
"arXiv:2604.21952v1 Announce Type: new \\nAbstract: …"; feedparser may fold
the newline, so the prefix is matched loosely. Authors come as one
comma-separated `dc:creator` string.
"""

import calendar
import re
from datetime import UTC, datetime
from xml.sax import SAXException

import feedparser

from digest.sources.records import FeedError, PaperRecord
from digest.sources.text import clean_text

# New-style ids (2604.21952) and old-style ones (hep-th/9901001), with an optional version.
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v(\d+))?", re.IGNORECASE)
_PREFIX = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>\S+)\s*(?:Abstract:\s*)?", re.IGNORECASE
)


def _arxiv_id(entry: feedparser.FeedParserDict) -> tuple[str, int | None] | None:
    guid = entry.get("id", "")
    for text in (guid.removeprefix("oai:arXiv.org:"), entry.get("link", "")):
        match = _ARXIV_ID.search(text)
        if match:
            version = int(match.group(2)) if match.group(2) else None
            return match.group(1), version
    return None


def _authors(entry: feedparser.FeedParserDict) -> list[str]:
    names = [author.get("name", "") for author in entry.get("authors", [])]
    return [clean_text(piece) for name in names for piece in name.split(",") if piece.strip()]


def _published(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _record(entry: feedparser.FeedParserDict) -> PaperRecord | None:
    found = _arxiv_id(entry)
    title = clean_text(entry.get("title", ""))
    if found is None or not title:
        return None
    canonical_id, version = found
    description = entry.get("summary", "")
    prefix = _PREFIX.match(description)
    abstract = clean_text(description[prefix.end() :] if prefix else description)
    announce_type = entry.get("arxiv_announce_type") or (prefix.group("type") if prefix else "")
    return PaperRecord(
        canonical_id=canonical_id,
        title=title,
        abstract=abstract,
        authors=_authors(entry),
        categories=[tag["term"] for tag in entry.get("tags", []) if tag.get("term")],
        abs_url=f"https://arxiv.org/abs/{canonical_id}",
        pdf_url=f"https://arxiv.org/pdf/{canonical_id}",
        published=_published(entry),
        version=version,
        announce_type=announce_type.strip().lower(),
    )


def parse(data: bytes) -> list[PaperRecord]:
    """The papers announced in an arXiv RSS feed; [] for an empty (weekend) feed.

    Raises FeedError when `data` is not a feed: an HTML error page, a
    truncated download, arXiv's "Feed error for query" answer.
    """
    if not data.strip():
        raise FeedError("empty response: not a feed")
    # Bytes, never str: given a str, feedparser may treat it as a path or URL.
    try:
        feed = feedparser.parse(data)
    except Exception as error:  # feedparser's own bugs on hostile input
        raise FeedError(f"not a feed: {error}") from None
    # Not well-formed XML (a truncated download, an HTML page): feedparser's
    # lenient fallback would still find some items, so half a feed would pass.
    if isinstance(feed.get("bozo_exception"), SAXException):
        raise FeedError(f"not well-formed XML: {feed.bozo_exception}")
    if feed.get("version", "") == "" or "title" not in feed.get("feed", {}):
        raise FeedError("not an RSS or Atom feed (no channel title)")
    title = feed.feed.get("title", "")
    if title.startswith("Feed error for query"):
        raise FeedError(f"arXiv answered with an error: {feed.feed.get('description', title)}")
    return [record for record in map(_record, feed.entries) if record is not None]
