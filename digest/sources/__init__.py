"""Feed parsers, one module per feed kind, each `parse(data: bytes) -> list[PaperRecord]`.

Pure Python: nothing here imports Django, so parsers can be tested and
benchmarked alone. `digest.ingest` turns records into rows.

Every parser takes the response's bytes (never a str or a URL: feedparser
would open those as files or fetch them itself), returns [] for a feed with
no items, and raises FeedError, with a reason a person can act on, for
anything that is not a feed of its kind.
"""

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from digest.sources import arxiv_api, arxiv_rss, arxiv_rss_legacy, generic_feed, hf_daily, hf_page
from digest.sources.ids import is_arxiv_host, is_hugging_face_host
from digest.sources.records import FeedError, Page, PaperRecord, ServiceError

Parser = Callable[[bytes], list[PaperRecord]]

PARSERS: dict[str, Parser] = {
    "arxiv_rss": arxiv_rss.parse,
    "arxiv_rss_legacy": arxiv_rss_legacy.parse,
    "arxiv_api": arxiv_api.parse,
    "hf_daily": hf_daily.parse,
    "hf_page": hf_page.parse,
    "feed": generic_feed.parse,
}

# arXiv's own feeds: the only ones that describe an arXiv paper (digest.ingest).
ARXIV_KINDS = frozenset({"arxiv_rss", "arxiv_rss_legacy", "arxiv_api"})
# Hugging Face's: they add their page and counts to a paper, never its description.
HUGGING_FACE_KINDS = frozenset({"hf_daily", "hf_page"})

KIND_LABELS: dict[str, str] = {
    "arxiv_rss": "arXiv RSS / Atom (rss.arxiv.org)",
    "arxiv_rss_legacy": "arXiv RSS 1.0 (legacy RDF)",
    "arxiv_api": "arXiv API query (Atom)",
    "hf_daily": "Hugging Face daily papers (JSON API)",
    "hf_page": "Hugging Face papers page (HTML)",
    "feed": "Any RSS or Atom feed",
}


def parse(kind: str, data: bytes) -> list[PaperRecord]:
    """Parse `data` as a feed of `kind`; raises FeedError when it cannot."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise FeedError(f"unknown feed kind {kind!r} (known: {known})") from None
    return parser(data)


def kind_for_url(url: str) -> str:
    """The feed kind a URL serves, judged by its address alone ("feed" when unsure)."""
    try:
        parts = urlsplit(url.strip())
        host, path = parts.hostname or "", parts.path
    except ValueError:
        return "feed"
    if is_arxiv_host(host):
        if path.startswith("/api/query"):
            return "arxiv_api"
        if re.match(r"/(rss|atom)/", path):
            return "arxiv_rss"
    if is_hugging_face_host(host):
        if path.startswith("/api/daily_papers"):
            return "hf_daily"
        if path.startswith("/papers"):
            return "hf_page"
    return "feed"


def kind_for_content(data: bytes) -> str:
    """The feed kind of a response, judged by its first bytes; FeedError when none fits."""
    head = data[:4096].lstrip()
    if head.startswith(b"[") or head.startswith(b"{"):
        return "hf_daily"
    lowered = head.lower()
    if lowered.startswith(b"<!doctype html") or lowered.startswith(b"<html"):
        if b"dailypapers" in data.lower():
            return "hf_page"
        raise FeedError("not a feed: an HTML page that is not a Hugging Face papers page")
    if b"<rdf:rdf" in lowered and b"arxiv.org" in lowered:
        return "arxiv_rss_legacy"
    if b"<feed" in lowered and (b"opensearch" in lowered or b"arxiv.org/api" in lowered):
        return "arxiv_api"
    if b"rss.arxiv.org" in lowered or b"arxiv:announce_type" in data[:20_000].lower():
        return "arxiv_rss"
    if any(root in lowered for root in (b"<rss", b"<feed", b"<rdf:rdf")):
        return "feed"
    raise FeedError("not a feed: no RSS, Atom, RDF or JSON content found")


__all__ = [
    "ARXIV_KINDS",
    "HUGGING_FACE_KINDS",
    "KIND_LABELS",
    "PARSERS",
    "FeedError",
    "Page",
    "PaperRecord",
    "ServiceError",
    "kind_for_content",
    "kind_for_url",
    "parse",
]
