"""Hugging Face papers page, HTML (huggingface.co/papers/date/YYYY-MM-DD, or /papers?date=).

The page embeds its data for Svelte: `<div class="SVELTE_HYDRATER" data-target=
"DailyPapers" data-props="…">`, HTML-escaped JSON whose `dailyPapers` list has the
items of the JSON API, so records come from `hf_daily.record_from_item`. The
rendered cards (`article`) carry only id, title and upvotes (no abstract, no
authors); they are read only when the props are missing.
"""

import json
import re
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from bs4 import BeautifulSoup, Tag

from digest.sources.feedreader import guarded
from digest.sources.hf_daily import records_from_items
from digest.sources.records import FeedError, PaperRecord
from digest.sources.text import clean_text

EXPECTED = "a Hugging Face papers page"

_PAPER_HREF = re.compile(r"^(?:https?://huggingface\.co)?/papers/(?P<id>[^/?#]+)/?(?:[?#].*)?$")
_COUNT = re.compile(r"^\d+$")


def day_url(base_url: str, day: date) -> str:
    """The papers page of `day` on the host of `base_url`: /papers/date/YYYY-MM-DD.

    Whatever page `base_url` names (/papers, /papers?date=, /papers/week/…), this
    is the current address that lists exactly that day: /papers?date= is the 2024
    form, and /papers alone redirects to whatever period the visitor viewed last.
    """
    parts = urlsplit(base_url.strip())
    path = f"/papers/date/{day:%Y-%m-%d}"
    return urlunsplit((parts.scheme or "https", parts.netloc or "huggingface.co", path, "", ""))


def _props_items(soup: BeautifulSoup) -> tuple[list | None, str]:
    """The `dailyPapers` list of the DailyPapers props, or None and why not."""
    island = soup.find(attrs={"data-target": "DailyPapers"})
    if not isinstance(island, Tag):
        return None, "no DailyPapers data"
    props = island.get("data-props")
    if not isinstance(props, str) or not props.strip():
        return None, "DailyPapers data has no data-props"
    try:
        # BeautifulSoup has already unescaped the attribute (&quot; -> ").
        payload = json.loads(props)
    except json.JSONDecodeError as error:
        return None, f"DailyPapers data-props is not JSON ({error})"
    items = payload.get("dailyPapers") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return None, "DailyPapers data-props has no dailyPapers list"
    return items, ""


def _card_item(article: Tag) -> dict | None:
    """A minimal API-shaped item from a rendered card: id, title and upvotes."""
    link = article.select_one('h3 a[href*="/papers/"]')
    href = link.get("href") if link else None
    found = _PAPER_HREF.match(href) if isinstance(href, str) else None
    if link is None or found is None:
        return None
    paper: dict = {"id": found["id"], "title": clean_text(link.get_text(" "))}
    # The "Submitted by" badge is a div.leading-none too: the vote count is the number.
    for box in article.select("div.leading-none"):
        text = box.get_text(strip=True)
        if _COUNT.match(text):
            paper["upvotes"] = int(text)
            break
    return {"paper": paper}


@guarded
def parse(data: bytes) -> list[PaperRecord]:
    """The papers of a Hugging Face papers page; [] for a day without papers.

    Raises FeedError when `data` is not such a page: JSON, an empty body, or an
    HTML page with neither the DailyPapers data nor paper cards.
    """
    if not data.strip():
        raise FeedError(f"empty response: not {EXPECTED}")
    if data.lstrip()[:1] in (b"[", b"{"):
        raise FeedError(f"not {EXPECTED}: got JSON (the daily papers API is the hf_daily kind)")
    soup = BeautifulSoup(data, "html.parser")
    items, reason = _props_items(soup)
    if items is not None:
        return records_from_items(items)
    # No props (markup changed, or a saved page without scripts): fall back on the cards.
    cards = [_card_item(article) for article in soup.find_all("article")]
    cards = [card for card in cards if card is not None]
    if cards:
        return records_from_items(cards)
    raise FeedError(f"not {EXPECTED}: {reason} and no paper cards")
