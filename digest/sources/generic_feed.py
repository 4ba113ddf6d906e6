"""Any RSS or Atom feed: a journal's, a lab blog's, bioRxiv's.

Such feeds say little in a standard way, so each field is taken from where
feeds commonly put it. A paper that is on arXiv (its link, guid or DOI names
an arXiv id) gets its arXiv id as canonical id, so it merges with the same
paper from arXiv's own feeds; other papers are keyed on their DOI, then on
their link.
"""

import re
from datetime import UTC, datetime

from digest.sources.feedreader import guarded, read_feed
from digest.sources.ids import canonical_id, find_arxiv_id, find_doi
from digest.sources.records import PaperRecord
from digest.sources.text import clean_text

_AUTHOR_SEPARATORS = re.compile(r"\s*;\s*|\s+and\s+|\n")


def _links(entry: dict) -> list[dict]:
    return [link for link in entry.get("links", []) if link.get("href")]


def _identifiers(entry: dict) -> list[str]:
    """Where feeds name the paper itself (never the abstract, which may cite others)."""
    values = [
        entry.get("id", ""),
        entry.get("link", ""),
        entry.get("prism_doi", ""),
        entry.get("dc_identifier", ""),
        entry.get("arxiv_doi", ""),
    ]
    values += [link["href"] for link in _links(entry)]
    return [value for value in values if isinstance(value, str) and value]


def _authors(entry: dict) -> list[str]:
    names = [author.get("name", "") for author in entry.get("authors", [])]
    if len(names) == 1:
        # One dc:creator or <author> holding the whole list: "A. Lee; B. Smith".
        names = _AUTHOR_SEPARATORS.split(names[0])
    cleaned = (clean_text(name) for name in names)
    return [name for name in cleaned if name]


def _abstract(entry: dict) -> str:
    # Atom <content> is usually the fuller text; <summary>/<description> otherwise.
    contents = [content.get("value", "") for content in entry.get("content", [])]
    return clean_text(next((value for value in contents if value), entry.get("summary", "")))


def _published(entry: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime(*parsed[:6], tzinfo=UTC)  # feedparser gives UTC struct_time
    return None


def _http(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else ""


def _record(entry: dict) -> PaperRecord | None:
    title = clean_text(entry.get("title", ""))
    identifiers = _identifiers(entry)
    arxiv = find_arxiv_id(*identifiers)
    doi = find_doi(*identifiers)
    link = _http(entry.get("link", "")) or _http(entry.get("id", ""))
    key = canonical_id(arxiv_id=arxiv[0] if arxiv else "", doi=doi, link=link)
    if not key or not title:
        return None
    pdf_links = [link["href"] for link in _links(entry) if link.get("type") == "application/pdf"]
    if arxiv:
        abs_url = f"https://arxiv.org/abs/{arxiv[0]}"
        pdf_url = f"https://arxiv.org/pdf/{arxiv[0]}"
    else:
        abs_url = link or (f"https://doi.org/{doi}" if doi else "")
        pdf_url = _http(pdf_links[0]) if pdf_links else ""
    return PaperRecord(
        canonical_id=key,
        title=title,
        abstract=_abstract(entry),
        authors=_authors(entry),
        categories=[clean_text(tag["term"]) for tag in entry.get("tags", []) if tag.get("term")],
        abs_url=abs_url,
        pdf_url=pdf_url,
        published=_published(entry),
        version=arxiv[1] if arxiv else None,
        doi=doi,
    )


@guarded
def parse(data: bytes) -> list[PaperRecord]:
    """The entries of any RSS 0.9x/1.0/2.0 or Atom feed that have a title and a link or id."""
    feed = read_feed(data)
    return [record for record in map(_record, feed.entries) if record is not None]
