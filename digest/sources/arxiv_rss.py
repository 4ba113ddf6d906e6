"""arXiv's RSS 2.0 feeds, the format rss.arxiv.org serves since 2024.

Each item is one announcement: a new paper, a cross-list, or a replacement
(a new version of an older paper). The description starts with
"arXiv:2604.21952v1 Announce Type: new \\nAbstract: …"; the prefix is matched
loosely because whitespace may be folded. Authors come as one comma-separated
`dc:creator` string.
"""

import io
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.sax import SAXException

import feedparser

from digest.sources.records import FeedError, PaperRecord
from digest.sources.text import clean_text

# New-style ids (2604.21952, 0704.0001) and old-style ones (hep-th/9901001, math.AG/0309136).
_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z-]+)?/\d{7})(?:v(?P<version>\d+))?"
_FROM_GUID = re.compile(rf"oai:arXiv\.org:{_ID}", re.IGNORECASE)
# Also rss.arxiv.org/abs/…, which items briefly linked to in 2024 (arxiv-feed issue #39).
_FROM_LINK = re.compile(rf"arxiv\.org/(?:abs|pdf)/{_ID}(?:$|[/?#.])", re.IGNORECASE)
_PREFIX = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>\S+)\s*(?:Abstract:\s*)?", re.IGNORECASE
)
_COMMA_OUTSIDE_PARENS = re.compile(r",(?![^()]*\))")
_HTML_PAGE = re.compile(rb"\s*(?:<!doctype html|<html)", re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _arxiv_id(entry: dict) -> tuple[str, int | None] | None:
    guid = _FROM_GUID.fullmatch(entry.get("id", "").strip())
    link = _FROM_LINK.search(entry.get("link", ""))
    found = guid or link
    if found is None:
        return None
    version = (guid and guid.group("version")) or (link and link.group("version"))
    return found.group("id"), int(version) if version else None


def _authors(entry: dict) -> list[str]:
    # Affiliations come in parentheses, "Ann Lee (MIT, Harvard)": their commas split nothing.
    names = [author.get("name", "") for author in entry.get("authors", [])]
    pieces = (clean_text(piece) for name in names for piece in _COMMA_OUTSIDE_PARENS.split(name))
    return [piece for piece in pieces if piece]


def _published(entry: dict) -> datetime | None:
    try:
        published = parsedate_to_datetime(entry.get("published", ""))
    except (TypeError, ValueError):
        parsed = entry.get("published_parsed")  # feedparser reads more date styles, as UTC
        return datetime(*parsed[:6], tzinfo=UTC) if parsed else None
    # "-0000" means "UTC, offset unknown"; the stdlib gives a naive datetime for it.
    return published if published.tzinfo else published.replace(tzinfo=UTC)


def _record(entry: dict) -> PaperRecord | None:
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
        categories=[tag["term"].strip() for tag in entry.get("tags", []) if tag.get("term")],
        abs_url=f"https://arxiv.org/abs/{canonical_id}",
        pdf_url=f"https://arxiv.org/pdf/{canonical_id}",
        published=_published(entry),
        version=version,
        announce_type=announce_type.strip().lower(),
    )


def _read_feed(data: bytes) -> feedparser.FeedParserDict:
    if not data.strip():
        raise FeedError("empty response: not a feed")
    if _HTML_PAGE.match(data):
        # Proxies and arXiv's own outage page answer with HTML; its title says the most.
        found = _HTML_TITLE.search(data[:10_000])
        title = clean_text(found.group(1).decode("utf-8", "replace")) if found else ""
        raise FeedError(f"not an RSS/Atom feed: got an HTML page{f' ({title})' if title else ''}")
    # A file object, not the bytes themselves: feedparser opens bytes that name an
    # existing path ("/dev/zero") as a file. sanitize_html=False because the
    # sanitizer reads the "<b" in "$a<b$" as a tag and drops text; clean_text
    # strips real tags without that.
    feed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    # Not well-formed XML (a truncated download, an HTML page): feedparser's lenient
    # fallback would still find the first items, and half a feed would pass as whole.
    if isinstance(feed.get("bozo_exception"), SAXException):
        raise FeedError(f"not an RSS/Atom feed: not well-formed XML ({feed.bozo_exception})")
    if not feed.get("version"):
        raise FeedError("not an RSS/Atom feed: no <rss>, <feed> or <rdf:RDF> root")
    if "title" not in feed.feed and not feed.entries:
        raise FeedError("not an RSS/Atom feed: no channel title and no items")
    return feed


def parse(data: bytes) -> list[PaperRecord]:
    """The papers announced in an arXiv RSS feed; [] for an empty (weekend) feed.

    Raises FeedError when `data` is not a feed: an HTML error page, a truncated
    download, arXiv's "Feed error for query" answer.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        # A str would be read as a path or URL by feedparser: a caller's bug, not a feed's.
        raise TypeError(f"parse() takes the feed's bytes, not {type(data).__name__}")
    try:
        feed = _read_feed(bytes(data))
        title = feed.feed.get("title", "")
        if title.startswith("Feed error for query"):
            reason = clean_text(feed.feed.get("description", "")) or title
            raise FeedError(f"arXiv answered with an error: {reason}")
        return [record for record in map(_record, feed.entries) if record is not None]
    except FeedError:
        raise
    except Exception as error:  # feedparser's or our own bug on odd input: still a FeedError
        raise FeedError(f"could not read the feed: {type(error).__name__}: {error}") from error
