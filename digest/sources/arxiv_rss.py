"""arXiv's RSS 2.0 and Atom feeds, the formats rss.arxiv.org serves since 2024.

Each item is one announcement: a new paper, a cross-list, or a replacement
(a new version of an older paper). The description starts with
"arXiv:2604.21952v1 Announce Type: new \\nAbstract: …"; the prefix is matched
loosely because whitespace may be folded. Authors come as one comma-separated
`dc:creator` string.
"""

import functools
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from digest.sources import arxiv_rss_legacy, arxiv_xml
from digest.sources.feedreader import guarded, read_feed
from digest.sources.ids import find_arxiv_id
from digest.sources.records import PaperRecord, ServiceError
from digest.sources.text import clean_text

_PREFIX = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>\S+)\s*(?:Abstract:\s*)?", re.IGNORECASE
)
_COMMA_OUTSIDE_PARENS = re.compile(r",(?![^()]*\))")


def _arxiv_id(entry: dict) -> tuple[str, int | None] | None:
    # The guid carries the version (oai:arXiv.org:2604.21952v1), the link does not.
    # Links briefly pointed at rss.arxiv.org/abs/… in 2024 (arxiv-feed issue #39).
    return find_arxiv_id(entry.get("id", ""), entry.get("link", ""))


def _authors(entry: dict) -> list[str]:
    # Affiliations come in parentheses, "Ann Lee (MIT, Harvard)": their commas split nothing.
    names = [author.get("name", "") for author in entry.get("authors", [])]
    pieces = (clean_text(piece) for name in names for piece in _COMMA_OUTSIDE_PARENS.split(name))
    return [piece for piece in pieces if piece]


@functools.lru_cache(maxsize=256)
def _rfc822(value: str) -> datetime | None:
    # The items of a feed share a handful of dates; datetimes are immutable.
    try:
        published = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    # "-0000" means "UTC, offset unknown"; the stdlib gives a naive datetime for it.
    return published if published.tzinfo else published.replace(tzinfo=UTC)


def _published(entry: dict) -> datetime | None:
    published = _rfc822(entry.get("published", ""))
    if published is None:
        parsed = entry.get("published_parsed")  # feedparser reads more date styles, as UTC
        return datetime(*parsed[:6], tzinfo=UTC) if parsed else None
    return published


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
        # RSS spells them arxiv:DOI and arxiv:journal_reference (the API: doi, journal_ref).
        doi=clean_text(entry.get("arxiv_doi", "")).lower(),
        journal_ref=clean_text(entry.get("arxiv_journal_reference", "")),
    )


@guarded
def parse(data: bytes) -> list[PaperRecord]:
    """The papers announced in an arXiv RSS feed; [] for an empty (weekend) feed.

    Raises FeedError when `data` is not a feed: an HTML error page, a truncated
    download, arXiv's "Feed error for query" answer.
    """
    feed = read_feed(data, read_items=arxiv_xml.read_items)
    title = feed.feed.get("title", "")
    if title.startswith("Feed error for query"):
        reason = clean_text(feed.feed.get("description", "") or feed.feed.get("subtitle", ""))
        raise ServiceError(f"arXiv answered with an error: {reason or title}")
    if str(feed.get("version", "")).startswith(("rss09", "rss10")):
        # An export.arxiv.org/rss URL on a mirror or an archive still serves the
        # pre-2024 RDF format, whose titles hide the id, type and category.
        return arxiv_rss_legacy.parse(data)
    return [record for record in map(_record, feed.entries) if record is not None]
