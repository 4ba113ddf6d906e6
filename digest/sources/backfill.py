"""Reading a source's history: the papers of the last N days, page by page.

The regular fetch reads what a feed holds now (arXiv's RSS: today's
announcements). A backfill asks the services that keep history: arXiv's query
API for arXiv sources, one request at a time with arXiv's politeness delay,
and Hugging Face's daily list day by day. Pure Python: the caller gives the
HTTP function and the clock, and writes each page as it comes.
"""

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

from digest.sources import arxiv_api, hf_daily, hf_page
from digest.sources.records import FeedError, PaperRecord

FetchBytes = Callable[[str], bytes]
Sleep = Callable[[float], None]

# A backfill is for days, not the whole archive: stop after this many pages.
MAX_PAGES = 100


def arxiv_search_query(kind: str, url: str) -> str:
    """The API query that holds the history of an arXiv source; FeedError when there is none."""
    if kind == "arxiv_api":
        query = arxiv_api.search_query_of(url)
        if query:
            return query
    elif kind in ("arxiv_rss", "arxiv_rss_legacy"):
        categories = arxiv_api.categories_of_rss_url(url)
        if categories:
            return arxiv_api.category_query(categories)
    raise FeedError(f"cannot tell which arXiv categories {url} covers, so cannot backfill it")


def arxiv_pages(
    fetch_bytes: FetchBytes,
    *,
    api_url: str,
    search_query: str,
    since: datetime,
    page_size: int,
    delay: float,
    sleep: Sleep,
) -> Iterator[list[PaperRecord]]:
    """Pages of papers submitted since `since`, newest first, until the API runs out.

    arXiv asks for one request every 3 seconds on one connection: `delay` is
    slept between requests, never before the first.
    """
    start = 0
    for page_number in range(MAX_PAGES):
        if page_number:
            sleep(delay)
        url = arxiv_api.query_url(
            api_url, search_query=search_query, start=start, max_results=page_size
        )
        page = arxiv_api.parse_page(fetch_bytes(url))
        recent = [r for r in page.records if r.published is None or r.published >= since]
        if recent:
            yield recent
        start += len(page.records)
        ended = len(recent) < len(page.records) or start >= page.total_results
        if not page.records or ended:
            return


# Ids asked for in one request of arXiv's id_list: a URL of some 2 KB.
IDS_PER_REQUEST = 100


def arxiv_papers_by_id(
    fetch_bytes: FetchBytes,
    *,
    api_url: str,
    ids: list[str],
    delay: float,
    sleep: Sleep,
) -> list[PaperRecord]:
    """The papers of `ids` that arXiv has (canonical ids, no version), asked by id_list,
    IDS_PER_REQUEST at a time with arXiv's politeness `delay` between requests. An id
    arXiv does not have is simply not among the records; FeedError when arXiv could not
    be asked or answered with an error."""
    unique = list(dict.fromkeys(ids))
    found: dict[str, PaperRecord] = {}
    for number, start in enumerate(range(0, len(unique), IDS_PER_REQUEST)):
        if number:
            sleep(delay)
        asked = unique[start : start + IDS_PER_REQUEST]
        page = arxiv_api.parse_page(fetch_bytes(arxiv_api.id_list_url(api_url, asked)))
        # Only the papers this request asked for: an answer naming others says nothing.
        wanted = set(asked)
        for record in page.records:
            if record.canonical_id in wanted:
                found.setdefault(record.canonical_id, record)
    return list(found.values())


def hugging_face_days(
    fetch_bytes: FetchBytes,
    *,
    kind: str,
    url: str,
    today: date,
    days: int,
    delay: float,
    sleep: Sleep,
) -> Iterator[list[PaperRecord]]:
    """One page per day of Hugging Face's daily list, from `days` days ago to today."""
    for offset, day in enumerate(today - timedelta(days=n) for n in range(days, -1, -1)):
        if offset:
            sleep(delay)
        if kind == "hf_daily":
            yield hf_daily.parse(fetch_bytes(hf_daily.daily_url(url, day)))
        else:
            yield hf_page.parse(fetch_bytes(hf_page.day_url(url, day)))
