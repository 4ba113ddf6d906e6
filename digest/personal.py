"""The readers' models in the service: digest.learning (pure) on the stored papers,
feedback and seeds.

- The representation: fitted on the newest stored papers, kept as a TextRepresentation
  row (the newest is in use), loaded once per process.
- Training: a reader's likes (their "more like this" papers and the papers they
  follow, `seed_papers_of`) and dislikes ("less like this") -> a ReaderModel row; a
  reader with neither has no row. A run vectorizes the papers of all its readers once.
- Ranking: compose asks `rank` for a reader's window; without a model nothing changes.
"""

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from digest import seeds
from digest.learning import rank as learning_rank
from digest.learning import reader
from digest.learning import representation as representations
from digest.learning.representation import Matrix, Representation, paper_text
from digest.matching import like
from digest.models import Feedback, Paper, ReaderModel, TextRepresentation
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

# The newest clicks a model learns from: a reader's taste moves, and a bound keeps
# training cheap whoever clicks the most.
MAX_FEEDBACK = 500
LIKED, FOLLOWED = "liked", "follow"


# --- The representation -------------------------------------------------------------


def fit_representation(now: datetime | None = None) -> tuple[TextRepresentation, bool]:
    """Fit the representation on the newest LEARNING_CORPUS_PAPERS stored papers and keep
    it; whether it changed (when it did, every reader's model is trained again)."""
    rows = Paper.objects.order_by("-first_seen").values_list("title", "abstract")
    texts = [
        paper_text(title, abstract) for title, abstract in rows[: settings.LEARNING_CORPUS_PAPERS]
    ]
    fitted = representations.new(settings.LEARNING_REPRESENTATION)
    fitted.fit(texts)
    key = fitted.key
    current = TextRepresentation.objects.first()
    if current is not None and current.key == key:
        return current, False
    with transaction.atomic():
        row = TextRepresentation.objects.create(
            kind=fitted.kind,
            key=key,
            data=fitted.to_bytes(),
            papers=len(texts),
            fitted_at=now or timezone.now(),
        )
        # The one before stays until the models trained on it are trained again.
        old = TextRepresentation.objects.exclude(pk=row.pk).order_by("-fitted_at", "-pk")[1:]
        TextRepresentation.objects.filter(pk__in=[r.pk for r in old]).delete()
    _loaded.clear()
    return row, True


_loaded: dict[str, Representation] = {}


def representation_of(key: str) -> Representation | None:
    """The stored representation of `key`, loaded once per process (None: gone)."""
    found = _loaded.get(key)
    if found is None:
        row = TextRepresentation.objects.filter(key=key).first()
        if row is None:
            return None
        if len(_loaded) >= 2:
            _loaded.clear()
        found = _loaded[key] = representations.load(row.kind, bytes(row.data))
    return found


def current_representation() -> tuple[str, Representation]:
    """The representation in use; fitted first when there is none yet."""
    row = TextRepresentation.objects.only("key").first()
    if row is None:
        row, _ = fit_representation()
    return row.key, representation_of(row.key)


@dataclass(frozen=True)
class Vectors:
    """Papers' vectors: `matrix` has a row per paper of `papers`, in their order."""

    papers: Sequence[Paper]
    matrix: Matrix
    row: dict[int, int]  # paper id -> row
    by_canonical_id: dict[str, int]


# Papers' vectors, by representation and by the papers' versions: the sender's window
# is vectorized once per worker process, a preview's once per new paper set; the
# list last asked for is known by identity (the sender asks with one list per window).
_vectors: dict[tuple, Vectors] = {}
_last: dict[str, tuple[Sequence[Paper], Vectors]] = {}


def vectors_of(key: str, papers: Sequence[Paper]) -> Vectors:
    """The vectors of `papers` under the representation of `key`."""
    last = _last.get(key)
    if last is not None and last[0] is papers:
        return last[1]
    versions = (key, tuple((paper.id, paper.updated_at) for paper in papers))
    found = _vectors.get(versions)
    if found is None:
        representation = representation_of(key)
        matrix = representation.transform([paper_text(p.title, p.abstract) for p in papers])
        if len(_vectors) >= 4:
            _vectors.clear()
        found = _vectors[versions] = Vectors(
            papers,
            matrix,
            {paper.id: n for n, paper in enumerate(papers)},
            {paper.canonical_id: n for n, paper in enumerate(papers)},
        )
    _last[key] = (papers, found)
    return found


# --- Seeds --------------------------------------------------------------------------


def seed_papers_of(subscriber: Subscriber) -> list[Paper]:
    """The papers `subscriber` follows (their `like:` lines, digest.seeds): the one
    place a reader's seeds are gathered (never the network)."""
    return seeds.seed_papers(subscriber)


def seeds_of(subscriber_ids: Iterable[int]) -> dict[int, list[Paper]]:
    """`seed_papers_of` for many readers at once (two queries)."""
    return seeds.seeds_of(subscriber_ids)


def seed_lines(interests: Iterable[str]) -> set[str]:
    """The lines of `interests` that follow papers."""
    return {" ".join(line.split()).casefold() for line in interests if like.is_like(line)}


def _with_seed_lines() -> Q:
    return Q(interests__text__istartswith=f"{like.WORD}:")


# --- Training -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Examples:
    liked: list[Paper]  # newest first
    followed: list[Paper]
    disliked: list[Paper]
    feedback_at: datetime | None

    @property
    def positives(self) -> list[tuple[Paper, str]]:
        # Clicks first: the newest things a reader said are the reasons shown first.
        liked = [(p, LIKED) for p in self.liked]
        chosen = {p.pk for p in self.liked}
        return liked + [(p, FOLLOWED) for p in self.followed if p.pk not in chosen]


def _examples(
    subscribers: Sequence[Subscriber], followed: Mapping[int, list[Paper]]
) -> dict[int, _Examples]:
    """Each reader's examples, their feedback read in one query."""
    liked: dict[int, list[Paper]] = {s.pk: [] for s in subscribers}
    disliked: dict[int, list[Paper]] = {s.pk: [] for s in subscribers}
    newest: dict[int, datetime] = {}
    rows = (
        Feedback.objects.filter(subscriber__in=[s.pk for s in subscribers])
        .select_related("paper")
        .only("subscriber_id", "value", "created", *(f"paper__{f}" for f in _PAPER_FIELDS))
        .order_by("subscriber_id", "-created", "-pk")
    )
    for feedback in rows:
        sid = feedback.subscriber_id
        if len(liked[sid]) + len(disliked[sid]) >= MAX_FEEDBACK:
            continue
        newest.setdefault(sid, feedback.created)
        (liked if feedback.value > 0 else disliked)[sid].append(feedback.paper)
    return {
        s.pk: _Examples(liked[s.pk], list(followed.get(s.pk, ())), disliked[s.pk], newest.get(s.pk))
        for s in subscribers
    }


_PAPER_FIELDS = ("id", "canonical_id", "title", "abstract", "updated_at")


def train_readers(
    subscriber_ids: Iterable[int], followed: Mapping[int, list[Paper]] | None = None
) -> Counter:
    """Train the models of these readers again from their feedback and the papers each
    follows (`followed`, their seeds; gathered by seeds_of when not given). A reader with no
    example loses their model. Their papers are vectorized once, together."""
    subscribers = list(Subscriber.objects.filter(pk__in=list(subscriber_ids)))
    if followed is None:
        followed = seeds_of([s.pk for s in subscribers])
    examples = _examples(subscribers, followed)
    key, _ = current_representation()
    papers: dict[int, Paper] = {}
    for found in examples.values():
        for paper in (*found.liked, *found.followed, *found.disliked):
            papers.setdefault(paper.pk, paper)
    ordered = list(papers.values())
    found_vectors = vectors_of(key, ordered) if ordered else None
    vectors = found_vectors.matrix if found_vectors else None
    row = found_vectors.row if found_vectors else {}
    counts: Counter = Counter()
    now = timezone.now()
    trained: list[ReaderModel] = []
    for subscriber in subscribers:
        found = examples[subscriber.pk]
        positives = found.positives
        if not positives and not found.disliked:
            counts["without examples"] += 1
            continue
        model = reader.train(
            vectors[[row[p.id] for p, _ in positives]], vectors[[row[p.id] for p in found.disliked]]
        )
        kept = positives[: reader.MAX_POSITIVES_KEPT]
        trained.append(
            ReaderModel(
                subscriber=subscriber,
                kind=model.kind,
                weights=reader.to_bytes(model),
                intercept=model.intercept,
                representation_key=key,
                likes=len(found.liked),
                dislikes=len(found.disliked),
                seeds=len(found.followed),
                positives=[[p.canonical_id, p.title, how] for p, how in kept],
                judged=[p.canonical_id for p in (*found.liked, *found.disliked)],
                feedback_at=found.feedback_at,
                trained_at=now,
            )
        )
        counts[model.kind] += 1
    with transaction.atomic():
        trained_ids = [m.subscriber_id for m in trained]
        ReaderModel.objects.filter(subscriber__in=[s.pk for s in subscribers]).exclude(
            subscriber__in=trained_ids
        ).delete()
        ReaderModel.objects.bulk_create(
            trained,
            update_conflicts=True,
            unique_fields=["subscriber"],
            update_fields=[
                "kind",
                "weights",
                "intercept",
                "representation_key",
                "likes",
                "dislikes",
                "seeds",
                "positives",
                "judged",
                "feedback_at",
                "trained_at",
            ],
        )
    return counts


def readers_to_train(everyone: bool = False) -> list[int]:
    """The readers whose model is out of date: feedback newer than it or counted
    differently (a click removed), seeds and no model, a model of another
    representation, or a model and no example left. `everyone`: every reader with
    feedback, seeds or a model."""
    key = TextRepresentation.objects.values_list("key", flat=True).first()
    rows = (
        Subscriber.objects.filter(
            Q(reader_feedback__isnull=False) | _with_seed_lines() | Q(reader_model__isnull=False)
        )
        .annotate(
            clicks=Count("reader_feedback", distinct=True),
            newest=Max("reader_feedback__created"),
        )
        .values_list(
            "pk",
            "clicks",
            "newest",
            "reader_model__likes",
            "reader_model__dislikes",
            "reader_model__feedback_at",
            "reader_model__representation_key",
        )
        .distinct()
        .order_by("pk")
    )
    due = []
    for pk, clicks, newest, likes, dislikes, learned_at, model_key in rows:
        if (
            everyone
            or likes is None
            or model_key != key
            or min(clicks, MAX_FEEDBACK) != likes + dislikes
            or (newest is not None and (learned_at is None or newest > learned_at))
        ):
            due.append(pk)
    return due


def retrain_soon(subscriber_id: int) -> None:
    """Train this reader's model again once the current transaction commits (a click),
    so their next preview and digest already follow it."""
    from digest import tasks  # the tasks import the sender, which imports this module

    transaction.on_commit(lambda: tasks.train_reader.delay(subscriber_id))


# --- Ranking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """A reader's stored model, loaded: what ranking needs."""

    subscriber_id: int
    model: reader.ReaderModel
    representation_key: str
    positives: list[list[str]]
    judged: frozenset[str]


def _loaded_model(row: ReaderModel) -> Model:
    model = reader.from_bytes(
        bytes(row.weights),
        kind=row.kind,
        intercept=row.intercept,
        n_positive=row.likes + row.seeds,
        n_negative=row.dislikes,
    )
    return Model(
        row.subscriber_id, model, row.representation_key, row.positives, frozenset(row.judged)
    )


def models_of(subscriber_ids: Iterable[int]) -> dict[int, Model]:
    """The models of these readers (those who have one), in one query."""
    rows = ReaderModel.objects.filter(subscriber__in=list(subscriber_ids)).defer("trained_at")
    return {row.subscriber_id: _loaded_model(row) for row in rows}


def models_among(subscribers: Iterable[Subscriber | None]) -> dict[int, Model]:
    """The models of these readers, read with them (select_related("reader_model"))."""
    found = {}
    for subscriber in subscribers:
        row = getattr(subscriber, "reader_model", None) if subscriber is not None else None
        if row is not None:
            found[subscriber.pk] = _loaded_model(row)
    return found


def model_of(subscriber_id: int) -> Model | None:
    return models_of([subscriber_id]).get(subscriber_id)


def tuning(shown: int) -> learning_rank.Tuning:
    return learning_rank.Tuning(
        suggestions=settings.LEARNING_SUGGESTIONS,
        min_similarity=settings.LEARNING_MIN_SIMILARITY,
        shown=shown,
    )


def reason(positive: Sequence[str]) -> str:
    """Why a paper is suggested: the liked (or followed) paper it is most like."""
    _, title, how = positive
    said = "you follow" if how == FOLLOWED else "you liked"
    return f'like "{" ".join(title.split())}" {said}'


@dataclass(frozen=True)
class Ranked:
    """A digest's papers in the order a reader's model gives: each the keyword match it
    was, or (reason) a suggestion."""

    papers: list[Paper]
    reasons: dict[int, str]  # paper id -> why suggested


def rank(
    model: Model,
    matched: Sequence[Paper],
    universe: Sequence[Paper],
    candidates: Sequence[Paper] | None = None,
    exclude: Iterable[int] = (),
    shown: int | None = None,
) -> Ranked | None:
    """The keyword matches re-ranked and suggestions added for a reader with `model`.

    `universe` is the window's papers (vectorized once for every reader of a chunk:
    pass the same list); `candidates` those of them this reader may get (None: all),
    `matched` among them; `exclude` ids of papers never to suggest (already in the
    digest for another reason); suggestions are placed among the first `shown`
    (default DIGEST_MAX_PAPERS: what the email shows). None when the model's
    representation is gone (a new one not trained on yet): nothing changes then. Only
    the matches, the reader's judged papers and the suggestions cost a step each, not
    the window's papers.
    """
    if representation_of(model.representation_key) is None:
        return None
    vectors = vectors_of(model.representation_key, universe)
    if candidates is None:
        rows, matrix = None, vectors.matrix
        place = vectors.row  # paper id -> index among the candidates
    else:
        rows = [vectors.row[p.id] for p in candidates if p.id in vectors.row]
        matrix = vectors.matrix[rows]
        place = {vectors.papers[r].id: n for n, r in enumerate(rows)}
    matched_places = [place[p.id] for p in matched if p.id in place]
    # A matched paper outside the window's vectors (none should be) keeps its place last.
    outside = [p for p in matched if p.id not in place]
    judged = (vectors.by_canonical_id.get(c) for c in model.judged)
    judged_ids = {vectors.papers[r].id for r in judged if r is not None}
    barred = [place[i] for i in (*judged_ids, *exclude) if i in place]
    shown = settings.DIGEST_MAX_PAPERS if shown is None else shown
    ranked = learning_rank.rank(model.model, matrix, matched_places, barred, tuning(shown))

    def paper(index: int) -> Paper:
        return vectors.papers[index if rows is None else rows[index]]

    reasons = {
        paper(s.index).id: reason(model.positives[s.like])
        for s in ranked.suggested.values()
        if 0 <= s.like < len(model.positives)
    }
    matched_set = set(matched_places)
    ordered = [paper(n) for n in ranked.order]
    return Ranked(
        [
            p
            for n, p in zip(ranked.order, ordered, strict=True)
            if n in matched_set or p.id in reasons
        ]
        + outside,
        reasons,
    )
