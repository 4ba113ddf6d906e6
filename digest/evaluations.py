"""The readers' clauses evaluated on each paper once, at the fetch that brings it, and
read back by every window and preview the paper is in (digest/matching/evaluated.py
says why and how).

A fetch that brought new or changed papers evaluates every reader's interests on
them (`record_recent`, after analyses.store_recent) and stores each paper's record:
the clause set evaluated (one row for all of them) and the hits; it also makes again
the records that lack interests written since (evaluating only those). A window
reads the records of its papers (`records_of`) and the engine evaluates only the
clauses a record lacks (interests written since the last fetch); a paper the window
had to evaluate whole (no record yet) gets its record from the window (`record`).
"""

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from digest import analyses
from digest.matching import Document, PaperIndex, clause_keys, evaluated
from digest.models import ClauseSet, Paper, PaperEvaluation
from groups.models import Group, GroupInterest
from subscriptions.models import Interest, Subscriber

logger = logging.getLogger(__name__)

BATCH = analyses.BATCH
# A clause set no record points to is deleted only once it is this old: a worker may
# have just made it, its records not written yet.
UNUSED_SET_GRACE = timedelta(hours=1)


def readers_interests() -> list[str]:
    """Every distinct interest a digest may be made of: active subscribers' and those of
    groups not closed (a pending group may start this week)."""
    own = Interest.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
    shared = GroupInterest.objects.exclude(group__status=Group.Status.CLOSED)
    texts = set(own.values_list("text", flat=True).distinct())
    texts.update(shared.values_list("text", flat=True).distinct())
    return sorted(texts)


def records_of(papers: Sequence[Paper]) -> dict[str, evaluated.Evaluated]:
    """The records of `papers` by canonical id, as PaperIndex(evaluated=...) takes them:
    only those made of the paper's texts now, by this analyser."""
    by_pk = {paper.pk: paper for paper in papers}
    rows = []
    pks = list(by_pk)
    for start in range(0, len(pks), BATCH):
        batch = PaperEvaluation.objects.filter(paper_id__in=pks[start : start + BATCH])
        rows += batch.values_list("paper_id", "key", "clause_set_id", "hits")
    current = {pk: key for pk, key, _, _ in rows if key == evaluated.key(Document.of(by_pk[pk]))}
    wanted = {set_id for pk, _, set_id, _ in rows if pk in current}
    sets = {
        pk: evaluated.loads_clauses(bytes(data))
        for pk, data in ClauseSet.objects.filter(pk__in=wanted).values_list("pk", "clauses")
    }
    shared: dict = {}  # equal hits of many papers read as one
    return {
        by_pk[pk].canonical_id: evaluated.read(key, sets[set_id], bytes(hits), shared)
        for pk, key, set_id, hits in rows
        if pk in current
    }


def record(index: PaperIndex, papers: Sequence[Paper]) -> int:
    """Store what `index` evaluated on `papers` (some of its papers) as their records."""
    if not papers:
        return 0
    clauses, hits = index.evaluations(paper.canonical_id for paper in papers)
    digest = evaluated.clauses_digest(clauses)
    clause_set, made = ClauseSet.objects.get_or_create(
        digest=digest, defaults={"clauses": evaluated.dumps_clauses(clauses)}
    )
    if not made:  # in use again: not one for record_recent to delete
        ClauseSet.objects.filter(pk=clause_set.pk).update(made_at=timezone.now())
    rows = [
        PaperEvaluation(
            paper=paper,
            key=evaluated.key(Document.of(paper)),
            clause_set=clause_set,
            hits=evaluated.dumps_hits(hits[paper.canonical_id]),
        )
        for paper in papers
    ]
    for start in range(0, len(rows), BATCH):
        PaperEvaluation.objects.bulk_create(
            rows[start : start + BATCH],
            update_conflicts=True,
            unique_fields=["paper"],
            update_fields=["key", "clause_set", "hits", "made_at"],
        )
    logger.info("recorded %d clauses evaluated on %d papers", len(clauses), len(rows))
    return len(rows)


def record_recent(days: int | None = None) -> int:
    """Evaluate every reader's interests on the last `days` days' papers that have no
    record of their texts now, and on those whose record lacks interests written since
    it was made (only those are evaluated; the rest is read from the record), and store
    the records: what the next windows read. Returns how many papers were recorded.
    Records of papers older than any window but a long-paused reader's are deleted,
    with the clause sets no record uses."""
    stale = analyses.recent_stale(PaperEvaluation, "evaluation", evaluated.key, days)
    ClauseSet.objects.filter(
        papers__isnull=True, made_at__lt=timezone.now() - UNUSED_SET_GRACE
    ).delete()
    interests = readers_interests()
    lacking = _lacking(interests, days, {paper.pk for paper in stale})
    papers = stale + lacking
    if not papers:
        return 0
    index = PaperIndex(
        map(Document.of, papers),
        interests=interests,
        keep=settings.MATCH_KEEP_ANALYSES or None,
        stored=analyses.stored_analyses(papers),
        evaluated=records_of(lacking),
    )
    return record(index, papers)


def _lacking(interests: Sequence[str], days: int | None, stale: set[int]) -> list[Paper]:
    """The last `days` days' papers, other than `stale`, whose record lacks clauses of
    `interests`: each window would evaluate those on them again, until the paper ages
    out of the windows, where one evaluation here does for them all."""
    days = settings.PAPER_ANALYSIS_DAYS if days is None else days
    since = timezone.now() - timedelta(days=days)
    rows = PaperEvaluation.objects.filter(paper__first_seen__gte=since)
    in_use = set(rows.values_list("clause_set_id", flat=True).distinct())
    needed = clause_keys(interests)
    short = [
        pk
        for pk, data in ClauseSet.objects.filter(pk__in=in_use).values_list("pk", "clauses")
        if needed - evaluated.loads_clauses(bytes(data))
    ]
    if not short:
        return []
    papers = Paper.objects.filter(first_seen__gte=since, evaluation__clause_set_id__in=short).only(
        *analyses.DOCUMENT_FIELDS
    )
    return [paper for paper in papers if paper.pk not in stale]


def prepare_recent() -> tuple[int, int]:
    """What a fetch that brought new or changed papers does for the next windows: their
    analyses stored (analyses.store_recent), then every reader's interests evaluated on
    them and recorded (record_recent). Returns how many papers each made."""
    return analyses.store_recent(), record_recent()


def prepared_summary(analysed: int, recorded: int) -> str:
    """prepare_recent's counts, as the commands print them."""
    return (
        f"analysed {analysed} papers and evaluated the readers' interests on {recorded} "
        "for the digests"
    )
