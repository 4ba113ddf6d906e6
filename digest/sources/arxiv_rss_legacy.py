"""arXiv's legacy RSS 1.0 (RDF) feeds: export.arxiv.org/rss/<cat> before 2024.

arXiv replaced them in January 2024, but mirrors and archives still serve them.
Items have no date, no category and no announce type of their own: all three
hide in the title suffix "Title. (arXiv:1805.08875v1 [hep-ex] CROSS LISTED)",
and the only date is the channel's dc:date. The description is HTML escaped
once more than the XML needs (so "<" in an abstract arrives as "&amp;lt;"), and
dc:creator holds HTML anchors, one per author.
"""

import re
from datetime import UTC, datetime

from bs4 import BeautifulSoup

from digest.sources.feedreader import guarded, read_feed
from digest.sources.ids import find_arxiv_id
from digest.sources.records import FeedError, PaperRecord
from digest.sources.text import clean_text

# The generator wrote f"{title}. (arXiv:{id}v{n} [{cat}]{flag})", adding its "." even
# after a "?" ("…Backpropagation?. (arXiv:…"): drop exactly that one period.
_SUFFIX = re.compile(
    r"\.?\s*\(arXiv:(?P<id>[^\s\[\]()]+)\s*(?:\[(?P<category>[^\]]*)\])?\s*(?P<flag>[^()]*)\)\s*$",
    re.IGNORECASE,
)
_FLAGS = {"": "new", "CROSS LISTED": "cross", "UPDATED": "replace"}
# "…R. Aaij</a>, et al. (909 additional authors not shown)": a count, not a name.
_ET_AL = re.compile(r",?\s*\bet al\b.*$", re.IGNORECASE | re.DOTALL)
_COMMA_OUTSIDE_PARENS = re.compile(r",(?![^()]*\))")


def _authors(entry: dict) -> list[str]:
    names: list[str] = []
    for author in entry.get("authors", []) or [{"name": entry.get("author", "")}]:
        markup = author.get("name", "") or ""
        anchors = BeautifulSoup(markup, "html.parser").find_all("a") if "<" in markup else []
        if anchors:
            # Text outside the anchors is a suffix ("(STAR Collaboration)", "et al. (…)"),
            # not a person; collaborations that are authors come as anchors themselves.
            names += [clean_text(anchor.get_text()) for anchor in anchors]
        else:
            # Archived copies sometimes carry plain text: "Ann Lee, Bo Chen, et al."
            text = _ET_AL.sub("", clean_text(markup))
            names += [piece.strip() for piece in _COMMA_OUTSIDE_PARENS.split(text)]
    return [name for name in names if name]


def _published(feed: dict) -> datetime | None:
    # Items carry no date: the channel's dc:date (feedparser's "updated") is the batch's.
    value = feed.get("updated", "") or feed.get("published", "")
    try:
        published = datetime.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        parsed = feed.get("updated_parsed") or feed.get("published_parsed")
        return datetime(*parsed[:6], tzinfo=UTC) if parsed else None
    return published if published.tzinfo else published.replace(tzinfo=UTC)


def _record(entry: dict, published: datetime | None) -> PaperRecord | None:
    raw_title = entry.get("title", "")
    suffix = _SUFFIX.search(raw_title)
    title = clean_text(raw_title[: suffix.start()] if suffix else raw_title)
    from_suffix = find_arxiv_id(f"arXiv:{suffix.group('id')}") if suffix else None
    # The link and rdf:about name the paper; only the title suffix has the version.
    from_link = find_arxiv_id(entry.get("link", ""), entry.get("id", ""))
    found = from_link or from_suffix
    if found is None or not title:
        return None
    canonical_id, version = found
    if from_suffix and from_suffix[0] == canonical_id:
        version = from_suffix[1]
    category = clean_text(suffix.group("category") or "") if suffix else ""
    flag = " ".join((suffix.group("flag") if suffix else "").split()).upper()
    return PaperRecord(
        canonical_id=canonical_id,
        title=title,
        # Unescaped once by the XML parser, the text is HTML: "<p>…$2.6&lt;\eta&lt;4$…</p>".
        abstract=clean_text(entry.get("summary", "")),
        authors=_authors(entry),
        categories=[category] if category else [],
        abs_url=f"https://arxiv.org/abs/{canonical_id}",
        pdf_url=f"https://arxiv.org/pdf/{canonical_id}",
        published=published,
        version=version,
        # A flag we do not know says nothing sure about the announcement: leave it empty.
        announce_type=_FLAGS.get(flag, "") if suffix else "",
    )


@guarded
def parse(data: bytes) -> list[PaperRecord]:
    """The papers of a legacy arXiv RSS 1.0 feed; [] for a channel with no items.

    Raises FeedError when `data` is not an RDF feed: an HTML page, a truncated
    download, or a current rss.arxiv.org feed (kind "arxiv_rss" reads those).
    """
    feed = read_feed(data, "an arXiv RSS 1.0 (RDF) feed")
    if not str(feed.get("version", "")).startswith(("rss09", "rss10")):
        raise FeedError(
            f"not an arXiv RSS 1.0 (RDF) feed: got {feed.version!r}; "
            "feeds of rss.arxiv.org since 2024 are read by the arXiv RSS kind"
        )
    published = _published(feed.feed)
    records = (_record(entry, published) for entry in feed.entries)
    return [record for record in records if record is not None]
