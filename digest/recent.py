"""What a set of interests would have found among recent papers: the live preview
of the signup and manage pages.

The papers of the last days are indexed once per process and reused until a
new paper arrives, so each preview is a single `PaperIndex.match`.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from digest import compose, matching
from digest.models import Paper

PREVIEW_DAYS = 7
# The index holds at most this many of the newest papers, so building it stays quick.
MAX_PAPERS = 3000

_lock = threading.Lock()
_cached: dict[str, object] = {"key": None, "index": None}


@dataclass(frozen=True)
class PreviewPaper:
    title: str
    url: str
    matched: tuple[str, ...]


@dataclass(frozen=True)
class RecentMatches:
    total: int
    papers: list[PreviewPaper]
    days: int = PREVIEW_DAYS


def _recent_papers():
    since = timezone.now() - timedelta(days=PREVIEW_DAYS)
    return Paper.objects.filter(first_seen__gt=since, announced_as_new=True)


def recent_index() -> matching.PaperIndex:
    """The papers of the last PREVIEW_DAYS (the newest MAX_PAPERS), indexed; cached."""
    papers = _recent_papers()
    key = tuple(papers.aggregate(count=Count("id"), newest=Max("updated_at")).values())
    with _lock:
        if _cached["key"] != key:
            newest = papers.order_by("-first_seen")[:MAX_PAPERS]
            _cached["index"] = matching.PaperIndex(map(matching.Document.of, newest))
            _cached["key"] = key
        return _cached["index"]


def recent_matches(
    interests: Sequence[str], categories: Sequence[str] = (), shown: int = 5
) -> RecentMatches:
    """How many recent papers `interests` match (in `categories`, if any), and the best few."""
    index = recent_index()
    documents = {paper.document.id: paper.document for paper in index.papers}
    results = [
        r
        for r in index.match(interests).results
        if compose.in_categories(documents[r.document_id], categories)
    ]
    urls = dict(
        Paper.objects.filter(canonical_id__in=[r.document_id for r in results[:shown]]).values_list(
            "canonical_id", "abs_url"
        )
    )
    return RecentMatches(
        total=len(results),
        papers=[
            PreviewPaper(
                title=documents[r.document_id].title,
                url=urls.get(r.document_id, ""),
                matched=tuple(word for reason in r.reasons for word in reason.matched),
            )
            for r in results[:shown]
        ],
    )
