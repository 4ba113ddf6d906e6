"""The arXiv API's Atom answers (export.arxiv.org/api/query), and helpers to page it.

Two layouts are served: the classic one (until about late 2025: namespaces
declared on each element, summaries hard-wrapped and indented) and the current
one (2026: namespaces on <feed>, paragraphs separated by "\\n  "). feedparser
reads both the same way. The API answers queries, not announcements, so a
record's announce type only says "new" for a first version.

An error is not an HTTP status alone: the body is a feed with one entry whose
id is …/api/errors#… and whose summary says what was wrong.
"""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from digest.sources.feedreader import guarded, read_feed
from digest.sources.ids import find_arxiv_id, find_doi
from digest.sources.records import FeedError, Page, PaperRecord, ServiceError
from digest.sources.text import clean_text

# arXiv categories (cs.LG, hep-ex, astro-ph.CO, math-ph). Entries also list ACM and MSC
# classes as category terms ("I.2.6", "68T05"); those are not arXiv categories.
_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")
_PAGING_PARAMS = {"search_query", "start", "max_results", "sortBy", "sortOrder"}
_FEED_PATH = re.compile(r"^/(?:rss|atom)/(?P<categories>[^/]+)/?$")


def _published(entry: dict) -> datetime | None:
    try:
        published = datetime.fromisoformat(entry.get("published", "").strip())
    except (AttributeError, ValueError):
        parsed = entry.get("published_parsed")  # feedparser reads more date styles, as UTC
        return datetime(*parsed[:6], tzinfo=UTC) if parsed else None
    return published if published.tzinfo else published.replace(tzinfo=UTC)


def _categories(entry: dict) -> list[str]:
    primary = (entry.get("arxiv_primary_category") or {}).get("term", "")
    terms = [primary] + [tag.get("term") or "" for tag in entry.get("tags", [])]
    categories: list[str] = []
    for term in (term.strip() for term in terms):
        if _CATEGORY.match(term) and term not in categories:
            categories.append(term)
    return categories


def _record(entry: dict) -> PaperRecord | None:
    # The entry id always carries the version (http://arxiv.org/abs/2606.13677v1).
    found = find_arxiv_id(entry.get("id", ""), entry.get("link", ""))
    title = clean_text(entry.get("title", ""))
    if found is None or not title:
        return None
    canonical_id, version = found
    return PaperRecord(
        canonical_id=canonical_id,
        title=title,
        abstract=clean_text(entry.get("summary", "")),
        authors=[
            name
            for name in (clean_text(author.get("name", "")) for author in entry.get("authors", []))
            if name
        ],
        categories=_categories(entry),
        abs_url=f"https://arxiv.org/abs/{canonical_id}",
        pdf_url=f"https://arxiv.org/pdf/{canonical_id}",
        published=_published(entry),
        version=version,
        # A later version found by a query is still just a paper, not a replacement
        # announcement: "replace" would mark it as an update to skip in digests.
        announce_type="new" if version in (None, 1) else "",
        # The API spells them arxiv:doi and arxiv:journal_ref (RSS: DOI, journal_reference).
        # arxiv:doi may list several DOIs separated by spaces: keep the first.
        doi=find_doi(entry.get("arxiv_doi", "")),
        journal_ref=clean_text(entry.get("arxiv_journal_ref", "")),
    )


def _raise_for_error_entry(entries: list) -> None:
    for entry in entries:
        if "/api/errors" in entry.get("id", ""):
            reason = clean_text(entry.get("summary", "")) or clean_text(entry.get("id", ""))
            raise ServiceError(f"arXiv API error: {reason}")


def _opensearch(feed: dict, name: str) -> int:
    # feedparser keys unknown namespaces by the prefix the document used: "opensearch_…"
    # in every real answer, but another prefix would still end in "_totalresults".
    value = feed.get(f"opensearch_{name}")
    if value is None:
        value = next((v for k, v in feed.items() if k.endswith(f"_{name}")), None)
    if value is None:
        raise FeedError(f"not an arXiv API answer: no opensearch:{name} element")
    try:
        return int(str(value).strip())
    except ValueError:
        raise FeedError(f"not an arXiv API answer: opensearch:{name} is not a number") from None


@guarded
def parse_page(data: bytes) -> Page:
    """One page of an arXiv API answer: its papers and the opensearch counts.

    Raises FeedError for an error answer (with arXiv's message), and for
    anything that is not an arXiv API Atom feed.
    """
    feed = read_feed(data, "an arXiv API answer (Atom)")
    if not str(feed.get("version", "")).startswith("atom"):
        raise FeedError(f"not an arXiv API answer: an {feed.version!r} feed, not Atom")
    _raise_for_error_entry(feed.entries)
    records = [record for record in map(_record, feed.entries) if record is not None]
    return Page(
        records=records,
        total_results=_opensearch(feed.feed, "totalresults"),
        start_index=_opensearch(feed.feed, "startindex"),
        items_per_page=_opensearch(feed.feed, "itemsperpage"),
    )


@guarded
def parse(data: bytes) -> list[PaperRecord]:
    """The papers of an arXiv API answer; [] when the query found nothing."""
    return parse_page(data).records


def query_url(base: str, *, search_query: str, start: int, max_results: int) -> str:
    """`base` asking for one page of `search_query`, newest submissions first.

    Other parameters of `base` (id_list, say) are kept; the paging ones are replaced.
    """
    parts = urlsplit(base.strip())
    kept = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in _PAGING_PARAMS
    ]
    params = [
        *kept,
        ("search_query", search_query),
        ("start", str(start)),
        ("max_results", str(max_results)),
        ("sortBy", "submittedDate"),
        ("sortOrder", "descending"),
    ]
    # ":" stays readable ("cat:cs.LG"); spaces become "+", as arXiv's own examples write them.
    return urlunsplit(parts._replace(query=urlencode(params, safe=":")))


def id_list_url(base: str, ids: Iterable[str]) -> str:
    """`base` asking for the papers `ids` ("2403.12345", "hep-th/9901001") by id_list,
    each once: the answer holds one entry per paper arXiv has (none for an id it lacks)."""
    unique = list(dict.fromkeys(ids))
    parts = urlsplit(base.strip())
    kept = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in _PAGING_PARAMS and key != "id_list"
    ]
    params = [*kept, ("id_list", ",".join(unique)), ("max_results", str(len(unique)))]
    return urlunsplit(parts._replace(query=urlencode(params, safe=":/,")))


def search_query_of(url: str) -> str:
    """The search_query of an arXiv API URL ("cat:cs.LG AND all:transformer"), or "".

    Backfill pages a source's own query (`query_url`) instead of its first page only.
    """
    parts = urlsplit(url.strip())
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    return params.get("search_query", "").strip()


def categories_of_rss_url(url: str) -> list[str]:
    """["cs.LG", "cs.AI"] for https://rss.arxiv.org/rss/cs.LG+cs.AI (or /atom/, or the
    legacy export.arxiv.org/rss/…); [] when `url` is not an arXiv category feed."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not (host == "arxiv.org" or host.endswith(".arxiv.org")):
        return []
    found = _FEED_PATH.match(unquote(parts.path))
    if found is None:
        return []
    categories: list[str] = []
    for category in found.group("categories").replace(" ", "+").split("+"):
        if _CATEGORY.match(category) and category not in categories:
            categories.append(category)
    return categories


def category_query(categories: Iterable[str]) -> str:
    """The API's search_query for papers in any of `categories`: "cat:cs.LG OR cat:cs.AI"."""
    unique = dict.fromkeys(category.strip() for category in categories if category.strip())
    return " OR ".join(f"cat:{category}" for category in unique)
