"""What a set of interests would have found among recent papers: the live preview
of the signup and manage pages, and each interest's own feedback there and in
the admin (`interest_feedback`).

The papers of the last days are indexed once per process (with the words a
spelling correction may use, and their links) and reused until a new paper arrives,
so each preview is a `PaperIndex.match` and a look at each interest's bit set. A
process asks the database whether they changed at most every RECHECK_SECONDS, so
under load most previews send no query at all.

A big index (FREEZE_FROM papers) is built with the cycle collector paused, and its
objects are then moved out of the collector's reach (heap.py): otherwise every full
pass walks them all again (a few hundred thousand containers for 443 papers, a pause of
100-400 ms that stops every thread of the process, what p99 of the preview measured).
"""

import gc
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from digest import analyses, compose, evaluations, heap, matching, personal, seeds
from digest.models import Paper

logger = logging.getLogger(__name__)

PREVIEW_DAYS = 7
# The index holds at most this many of the newest papers, so building it stays quick.
MAX_PAPERS = 3000

# A new paper shows in the preview within this long of its commit. Inside a transaction
# the check is made every time (a caller sees the papers it wrote itself), and an index
# built there is checked again outside it.
RECHECK_SECONDS = 1.0

# From how many papers an index is frozen out of the cycle collector's passes (heap.py).
FREEZE_FROM = heap.FREEZE_FROM

_lock = threading.Lock()
_building = threading.Event()  # a big build runs, the collector paused for it
_cached: dict[str, object] = {
    "key": None,
    "index": None,
    "spelling": None,
    "urls": {},  # canonical id -> abs_url of the indexed papers
    "documents": (None, {}),  # the index, and its documents by canonical id
    "papers": (None, []),  # the index, and its Paper rows (a reader's model ranks them)
    "checked": None,  # time.monotonic() of the last check outside a transaction
}


@dataclass(frozen=True)
class PreviewPaper:
    title: str
    url: str
    matched: tuple[str, ...]


@dataclass(frozen=True)
class InterestFeedback:
    """What one interest finds among the recent papers, and what to look at."""

    interest: str
    matches: int  # recent papers it matches (in the categories asked for)
    example: PreviewPaper | None  # the one it ranks first
    # "No paper of the last 7 days", "Matches 90% of papers; add words to narrow it", or ""
    warning: str = ""
    # for an interest that finds nothing: a spelling that finds papers (or the
    # thesaurus knows), "reinforcement learning" for "reinforcment learning"; or ""
    suggestion: str = ""
    # for a like line, what it does instead of matching words: "follows papers like"
    # (and `example` is the paper), or "follows papers like arXiv:…" for one not stored yet
    note: str = ""

    @property
    def message(self) -> str:
        """The warning and the suggestion in one sentence (a like line's note and its
        paper's title), for plain-text places."""
        if self.note:
            return f"{self.note} “{self.example.title}”" if self.example else self.note
        if self.suggestion:
            return f"{self.warning}; did you mean “{self.suggestion}”?"
        return self.warning


@dataclass(frozen=True)
class SuggestedPaper:
    """A recent paper a reader's model suggests, and why ('like "…" you liked')."""

    title: str
    url: str
    reason: str


@dataclass(frozen=True)
class RecentMatches:
    total: int
    papers: list[PreviewPaper]
    days: int = PREVIEW_DAYS
    interests: list[InterestFeedback] = field(default_factory=list)  # in the order given
    # What a known reader's model suggests beside the matches (the manage page).
    suggested: list[SuggestedPaper] = field(default_factory=list)


def _recent_papers():
    since = timezone.now() - timedelta(days=PREVIEW_DAYS)
    return Paper.objects.filter(first_seen__gt=since, announced_as_new=True)


@contextmanager
def _frozen_when_built(big: bool) -> Iterator[None]:
    """heap.frozen_when_built, with a big build on record for the fork handler."""
    with heap.frozen_when_built(big) as managed:
        if managed:
            _building.set()
        try:
            yield
        finally:
            _building.clear()


def _recent() -> tuple[matching.PaperIndex, matching.Spelling]:
    with _lock:
        checked = None if connection.in_atomic_block else _cached["checked"]
        if checked is not None and time.monotonic() - checked < RECHECK_SECONDS:
            return _cached["index"], _cached["spelling"]
    papers = _recent_papers()
    key = tuple(papers.aggregate(count=Count("id"), newest=Max("updated_at")).values())
    with _lock:
        if _cached["key"] != key:
            newest = list(papers.order_by("-first_seen")[:MAX_PAPERS])
            with _frozen_when_built(len(newest) >= FREEZE_FROM):
                index = matching.PaperIndex(
                    map(matching.Document.of, newest),
                    stored=analyses.StoredAnalyses(newest, store=False),
                    evaluated=evaluations.records_of(newest),
                )
                texts = ([d.title, d.abstract] for d in index.papers.documents)
                _cached["spelling"] = matching.Spelling.of(texts, index.concepts)
                _cached["urls"] = {paper.canonical_id: paper.abs_url for paper in newest}
                documents = {d.id: d for d in index.papers.documents}
                _cached["documents"] = (index, documents)
                _cached["papers"] = (index, newest)
                _cached["index"] = index
                _cached["key"] = key
        _cached["checked"] = None if connection.in_atomic_block else time.monotonic()
        return _cached["index"], _cached["spelling"]


def _after_fork_in_child() -> None:
    """A process forked while a build thread ran (gunicorn --preload loads the app in
    the master) has no such thread: the lock it held and the collector it paused must
    not stay so; the half-built index was never cached (its key goes in last)."""
    global _lock
    _lock = threading.Lock()
    if _building.is_set():
        _building.clear()
        gc.enable()


os.register_at_fork(after_in_child=_after_fork_in_child)


def build_in_background() -> threading.Thread:
    """Build the index in a thread of its own, started now: what a web worker does once
    loaded (config/wsgi.py), so that its first preview finds the index built instead of
    waiting for it, 1-5 s on a busy machine, with the worker's other previews queued
    behind the lock. Not in the loading itself: a big window's build could outlast
    gunicorn's timeout for a worker to boot."""

    def build() -> None:
        try:
            recent_index()
        except Exception:  # the database not ready yet: the first preview builds it then
            logger.warning("The preview's index was not built at start", exc_info=True)
        finally:
            connection.close()  # this thread's own; it serves no request

    thread = threading.Thread(target=build, name="preview-index", daemon=True)
    thread.start()
    return thread


def check_again() -> None:
    """Make the next preview ask the database whether the papers changed (a test that
    has just emptied the tables must not be answered from the index of the last one)."""
    with _lock:
        _cached["checked"] = None


def recent_index() -> matching.PaperIndex:
    """The papers of the last PREVIEW_DAYS (the newest MAX_PAPERS), indexed; cached
    with the words of their titles and abstracts, for spelling corrections."""
    return _recent()[0]


def _urls(ids: Sequence[str]) -> dict[str, str]:
    """The papers' links: the indexed papers' from the index's build (kept as fresh as
    the index), any other from the database."""
    known = _cached["urls"]
    found = {paper_id: known[paper_id] for paper_id in ids if paper_id in known}
    if missing := [paper_id for paper_id in ids if paper_id not in found]:
        rows = Paper.objects.filter(canonical_id__in=missing)
        found.update(rows.values_list("canonical_id", "abs_url"))
    return found


def _paper(
    document: matching.Document, urls: dict[str, str], matched: tuple[str, ...] = ()
) -> PreviewPaper:
    return PreviewPaper(title=document.title, url=urls.get(document.id, ""), matched=matched)


def _seed_feedback(line: matching.Advice, paper: Paper | None) -> InterestFeedback:
    """A like line finds no papers by words: it says which paper it follows."""
    if paper is None:
        note = f"follows papers like arXiv:{line.seed} (looked up on arXiv when you save)"
        return InterestFeedback(interest=line.interest, matches=0, example=None, note=note)
    example = PreviewPaper(title=paper.title, url=paper.abs_url, matched=())
    return InterestFeedback(
        interest=line.interest, matches=0, example=example, note="follows papers like"
    )


def _feedback(
    advice: list[matching.Advice], documents: dict[str, matching.Document], urls: dict[str, str]
) -> list[InterestFeedback]:
    found = []
    seed_papers = seeds.titles(line.interest for line in advice if line.seed)
    for line in advice:
        if line.seed:
            found.append(_seed_feedback(line, seed_papers.get(line.seed)))
            continue
        warning = ""
        if line.silent and matching.trending.is_trending(line.interest):
            warning = f"No paper of the last {PREVIEW_DAYS} days has upvotes on Hugging Face"
        elif line.silent:
            warning = f"No paper of the last {PREVIEW_DAYS} days"
        elif line.broad:
            warning = f"Matches {line.share:.0%} of papers; add words to narrow it"
        example = documents[line.example] if line.example else None
        found.append(
            InterestFeedback(
                interest=line.interest,
                matches=line.matches,
                example=_paper(example, urls) if example else None,
                warning=warning,
                suggestion=line.suggestion or "",
            )
        )
    return found


def _documents(index: matching.PaperIndex) -> dict[str, matching.Document]:
    """The index's documents by id: kept with the index, unless another thread has just
    replaced it."""
    owner, documents = _cached["documents"]
    if owner is not index:
        documents = {document.id: document for document in index.papers.documents}
    return documents


def _advice(
    interests: Sequence[str], categories: Sequence[str]
) -> tuple[matching.PaperIndex, list[matching.Advice]]:
    index, spelling = _recent()
    among = None
    if categories:
        among = sum(
            1 << i
            for i, document in enumerate(index.papers.documents)
            if compose.in_categories(document, categories)
        )
    return index, matching.advise(index, interests, spelling, among=among)


def interest_feedback(
    interests: Sequence[str], categories: Sequence[str] = ()
) -> list[InterestFeedback]:
    """Each interest's feedback among the papers of the last PREVIEW_DAYS (in
    `categories`, if any), in the order given: how many it matches, the one it
    ranks first, a warning for one that matches nothing (with a spelling it may
    have meant) or most papers. `interests` must be valid (validate_interest);
    the signup and manage pages' preview and the admin show it."""
    index, advice = _advice(interests, categories)
    documents = _documents(index)
    urls = _urls([line.example for line in advice if line.example])
    return _feedback(advice, documents, urls)


def _most_upvoted(
    index: matching.PaperIndex, categories: Sequence[str], count: int
) -> list[matching.Result]:
    """The `count` most upvoted papers of the index (in `categories`, if any): the
    index keeps them most upvoted first."""
    found = []
    for document in index.papers.documents:
        if len(found) == count or not document.upvotes:
            break
        if compose.in_categories(document, categories):
            found.append(matching.Result(document.id, 0.0, ()))
    return found


def recent_matches(
    interests: Sequence[str], categories: Sequence[str] = (), shown: int = 5
) -> RecentMatches:
    """How many recent papers `interests` match (in `categories`, if any), the best
    few, and each interest's feedback (`interest_feedback`)."""
    index, advice = _advice(interests, categories)
    documents = _documents(index)
    results = [
        r
        for r in index.match(interests).results
        if compose.in_categories(documents[r.document_id], categories)
    ]
    if count := matching.trending.wanted(interests)[0]:
        # Ahead of the matches, as a digest puts them.
        top = _most_upvoted(index, categories, count)
        chosen = {r.document_id for r in top}
        results = top + [r for r in results if r.document_id not in chosen]
    best = [r.document_id for r in results[:shown]]
    urls = _urls([*best, *(line.example for line in advice if line.example)])
    return RecentMatches(
        total=len(results),
        papers=[
            _paper(
                documents[r.document_id],
                urls,
                tuple(word for reason in r.reasons for word in reason.matched),
            )
            for r in results[:shown]
        ],
        interests=_feedback(advice, documents, urls),
    )


def suggestions_for(
    subscriber_id: int, interests: Sequence[str], categories: Sequence[str] = ()
) -> list[SuggestedPaper]:
    """The recent papers (in `categories`, if any) that the reader's model suggests beside
    what `interests` match: the manage page's preview shows what their clicks taught
    it. None for a reader without a model (no query beyond looking for it)."""
    model = personal.model_of(subscriber_id)
    if model is None:
        return []
    index = recent_index()
    with _lock:
        owner, papers = _cached["papers"]
    if owner is not index:
        return []
    matched_ids = {r.document_id for r in index.match(list(interests)).results}
    candidates = [p for p in papers if compose.in_categories(p, categories)] if categories else None
    matched = [p for p in (candidates or papers) if p.canonical_id in matched_ids]
    ranked = personal.rank(model, matched, papers, candidates)
    if ranked is None:
        return []
    return [
        SuggestedPaper(paper.title, paper.abs_url, ranked.reasons[paper.id])
        for paper in ranked.papers
        if paper.id in ranked.reasons
    ]
