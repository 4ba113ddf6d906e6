"""Each paper analysed once, stored, and read back by every window and preview it is in.

The matching engine's analysis of a paper (digest/matching/stored.py) costs about a
millisecond and was made again by every sender's window (seven daily ones and a
weekly one hold each paper) and by the preview's index after every fetch. Now a fetch
that brought new or changed papers makes theirs (`store_recent`), and a window reads
the stored ones (`stored_analyses`), making and storing only what is missing: a paper
new since the fetch, or one whose title, abstract or analyser changed since (the key
says so).
"""

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from digest.matching import Document, stored
from digest.models import Paper, PaperAnalysis

logger = logging.getLogger(__name__)

# Rows read or written per statement: well inside SQLite's limit on a statement's values.
BATCH = 500
# The Paper fields Document.of reads: all a paper's analysis or record is made of.
DOCUMENT_FIELDS = ("canonical_id", "title", "abstract", "authors", "categories", "upvotes")


def stored_analyses(papers: Sequence[Paper], *, store: bool = True) -> dict[str, tuple[str, bytes]]:
    """The analyses of `papers` by canonical id, as PaperIndex(stored=...) takes them;
    those missing, or made of another text or by another analyser, made and stored
    (`store`; else left out, for the index to make: a web process only reads)."""
    by_pk = {paper.pk: paper for paper in papers}
    found: dict[str, tuple[str, bytes]] = {}
    pks = list(by_pk)
    for start in range(0, len(pks), BATCH):
        rows = PaperAnalysis.objects.filter(paper_id__in=pks[start : start + BATCH])
        for pk, key, data in rows.values_list("paper_id", "key", "data"):
            found[by_pk[pk].canonical_id] = (key, bytes(data))
    if not store:
        return found  # the index reads only those whose key is still the paper's
    stale = [
        paper
        for paper in papers
        if found.get(paper.canonical_id, ("",))[0] != stored.key(Document.of(paper))
    ]
    found.update(_store(stale))
    return found


class StoredAnalyses:
    """The stored analyses of `papers`, as PaperIndex(stored=...) takes them, read from
    the database only when the index first asks for one: a window whose papers' records
    (evaluations.py) have every clause asked reads none. The preview's index asks from
    its request threads: one of them reads."""

    def __init__(self, papers: Sequence[Paper], *, store: bool = True) -> None:
        self._papers, self._store = papers, store
        self._read: dict[str, tuple[str, bytes]] | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._papers)

    def pop(self, paper_id: str, default: None = None) -> tuple[str, bytes] | None:
        if self._read is None:
            with self._lock:
                if self._read is None:
                    self._read = stored_analyses(self._papers, store=self._store)
        return self._read.pop(paper_id, default)


def store_recent(days: int | None = None) -> int:
    """Make and store the analyses of the last `days` days' papers that have none, or
    an older one than their last change or than this analyser: what the next windows
    will read. Returns how many were made (see recent_stale)."""
    stale = recent_stale(PaperAnalysis, "analysis", stored.key, days)
    return sum(len(_store(stale[start : start + BATCH])) for start in range(0, len(stale), BATCH))


def recent_stale(
    model: type[models.Model],
    relation: str,
    key: Callable[[Document], str],
    days: int | None = None,
) -> list[Paper]:
    """The last `days` (PAPER_ANALYSIS_DAYS) days' papers whose `relation` row (a
    `model` made under `key`: its analysis, its record) is missing, or of another text
    or analyser than the paper's now. The rows of papers older than any window but a
    long-paused reader's (PAPER_ANALYSIS_KEEP_DAYS) are deleted."""
    days = settings.PAPER_ANALYSIS_DAYS if days is None else days
    now = timezone.now()
    model.objects.filter(
        paper__first_seen__lt=now - timedelta(days=max(days, settings.PAPER_ANALYSIS_KEEP_DAYS))
    ).delete()
    recent = Paper.objects.filter(first_seen__gte=now - timedelta(days=days))
    # A change to a paper since its row is mostly new upvotes, which neither reads: the
    # key says whether its texts changed, and a row still current is marked so
    # (made_at), or every fetch would read those papers again.
    maybe_stale = (
        recent.filter(
            Q(**{f"{relation}__isnull": True})
            | Q(**{f"{relation}__made_at__lt": F("updated_at")})
            | ~Q(**{f"{relation}__key__startswith": stored.fingerprint()})
        )
        .annotate(row_key=F(f"{relation}__key"))
        .only(*DOCUMENT_FIELDS)
    )
    stale: list[Paper] = []
    current: list[int] = []
    for paper in maybe_stale.iterator(chunk_size=BATCH):
        if paper.row_key == key(Document.of(paper)):
            current.append(paper.pk)
        else:
            stale.append(paper)
    for start in range(0, len(current), BATCH):
        model.objects.filter(paper_id__in=current[start : start + BATCH]).update(
            made_at=timezone.now()
        )
    return stale


def _store(papers: Iterable[Paper]) -> dict[str, tuple[str, bytes]]:
    made = {paper.canonical_id: (paper, stored.make(Document.of(paper))) for paper in papers}
    rows = [PaperAnalysis(paper=paper, key=key, data=data) for paper, (key, data) in made.values()]
    for start in range(0, len(rows), BATCH):
        PaperAnalysis.objects.bulk_create(
            rows[start : start + BATCH],
            update_conflicts=True,
            unique_fields=["paper"],
            update_fields=["key", "data", "made_at"],
        )
    if rows:
        logger.info("stored the analyses of %d papers", len(rows))
    return {canonical_id: pair for canonical_id, (_, pair) in made.items()}
