"""Hugging Face daily papers, the JSON API (huggingface.co/api/daily_papers?date=YYYY-MM-DD).

The answer is a JSON list; each item wraps the paper (`paper{id, title, summary,
authors[], publishedAt, upvotes}`) with list-level fields (`numComments`, a copy
of the title and summary). Upvotes exist only under `paper`, comments only at
the top level. Weekends and holidays give `[]`. The papers page (`hf_page`)
embeds the same items, so `record_from_item` serves both parsers.
"""

import json
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from digest.sources.feedreader import guarded, html_page_error
from digest.sources.ids import split_arxiv_id
from digest.sources.records import FeedError, PaperRecord, ServiceError
from digest.sources.text import clean_text

EXPECTED = "Hugging Face daily papers JSON"


def daily_url(base_url: str, day: date) -> str:
    """`base_url` asking for the papers of `day`: its `date` parameter set or replaced.

    Other query parameters (`limit`, …) stay as they were.
    """
    iso_day = f"{day:%Y-%m-%d}"  # a datetime would otherwise add its time
    parts = urlsplit(base_url.strip())
    query: list[tuple[str, str]] = []
    replaced = False
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name != "date":
            query.append((name, value))
        elif not replaced:  # replaced where it stood; a repeated date is dropped
            query.append(("date", iso_day))
            replaced = True
    if not replaced:
        query.append(("date", iso_day))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    # bool is an int in Python; a `true` is not a count.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _published(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        # "2026-05-30T00:00:00.000Z": Python 3.11 reads the "Z" and the milliseconds.
        published = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if published.tzinfo is None:
        return published.replace(tzinfo=UTC)
    return published.astimezone(UTC)


def _authors(paper: dict) -> list[str]:
    authors = paper.get("authors")
    if not isinstance(authors, list):
        return []
    names = (_text(author.get("name")) for author in authors if isinstance(author, dict))
    return [name for name in names if name]


def record_from_item(item: Any) -> PaperRecord | None:
    """The record of one daily papers item; None when it has no id or no title."""
    if not isinstance(item, dict):
        return None
    paper = item.get("paper")
    if not isinstance(paper, dict):
        return None
    raw_id = paper.get("id")
    raw_id = raw_id.strip() if isinstance(raw_id, str) else ""
    title = _text(paper.get("title")) or _text(item.get("title"))
    if not raw_id or not title:
        return None
    found = split_arxiv_id(raw_id)
    if found is not None:
        # HF ids carry no version; a "v2" would only name the version HF linked.
        arxiv_id = found[0]
        canonical_id = arxiv_id
        hf_url = f"https://huggingface.co/papers/{arxiv_id}"
        abs_url, pdf_url = f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}"
    else:
        # Papers submitted without an arXiv id: the HF page is all there is.
        canonical_id = f"hf:{raw_id}"
        hf_url = f"https://huggingface.co/papers/{quote(raw_id, safe='')}"
        abs_url, pdf_url = hf_url, ""
    return PaperRecord(
        canonical_id=canonical_id,
        title=title,
        abstract=_text(paper.get("summary")) or _text(item.get("summary")),
        authors=_authors(paper),
        abs_url=abs_url,
        pdf_url=pdf_url,
        published=_published(paper.get("publishedAt")),
        upvotes=_count(paper.get("upvotes")),
        comments=_count(item.get("numComments")),
        hf_url=hf_url,
    )


def records_from_items(items: list[Any]) -> list[PaperRecord]:
    """The records of a list of daily papers items, skipping those without id or title."""
    return [record for record in map(record_from_item, items) if record is not None]


def _describe(value: Any) -> str:
    names = {dict: "an object", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


@guarded
def parse(data: bytes) -> list[PaperRecord]:
    """The papers of a daily papers API answer; [] for an empty (weekend) list.

    Raises FeedError for an empty body, an HTML page, text that is not JSON
    (a truncated download), or an error object such as {"error": "Invalid date"}.
    """
    if not data.strip():
        raise FeedError(f"empty response: not {EXPECTED}")
    if error := html_page_error(data, EXPECTED):
        raise error
    try:
        # utf-8-sig: json.loads rejects bytes starting with a BOM.
        payload = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FeedError(f"not {EXPECTED}: not UTF-8 text") from error
    except json.JSONDecodeError as error:
        raise FeedError(f"not {EXPECTED}: {error}") from error
    if isinstance(payload, dict) and "error" in payload:
        reason = payload["error"]
        reason = clean_text(reason) if isinstance(reason, str) else json.dumps(reason)
        headline = "Hugging Face answered with an error"
        raise ServiceError(f"{headline}: {reason}", headline=headline)
    if not isinstance(payload, list):
        raise FeedError(f"not {EXPECTED}: expected a list of papers, got {_describe(payload)}")
    return records_from_items(payload)
