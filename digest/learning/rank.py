"""A reader's model applied to one window of papers: the keyword matches re-ranked,
and up to a few papers no keyword caught suggested.

Blending ranks, not scores: a keyword match's place (1 at the top, falling by one
tenth of the list a place) and the model's percentile among the window's papers are
mixed with a weight that grows with the reader's examples (none at 0, half of
`Tuning.weight` at `Tuning.half_at`). Percentiles make a logistic model's logits and
a centroid's cosines alike, so one threshold-free blend serves both. A suggestion
enters with no keyword part, so it rises above the matches the model likes least.

A paper is suggested when its own words lean toward the likes (the model's evidence
is positive) and it is at least `Tuning.min_similarity` (cosine) like one liked
paper, which its reason then names.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from digest.learning.reader import ReaderModel
from digest.learning.representation import Matrix


@dataclass(frozen=True)
class Tuning:
    suggestions: int = 3
    min_similarity: float = 0.03
    weight: float = 0.6
    half_at: int = 5
    # A keyword match's part falls by 1/depth a place, over at least this many places.
    min_depth: int = 10
    # Places the email shows (DIGEST_MAX_PAPERS): suggestions are always among them.
    shown: int = 25


@dataclass(frozen=True)
class Suggested:
    """A paper no keyword caught: its candidate index, the kept like it is most like
    (a row of the model's positives) and how much (cosine)."""

    index: int
    like: int
    similarity: float


@dataclass(frozen=True)
class Ranked:
    """Candidate indices in the digest's order, and which of them are suggestions."""

    order: list[int]
    suggested: dict[int, Suggested]


def _percentiles(scores: np.ndarray) -> np.ndarray:
    """Each score's place among all, 0 (lowest) to 1 (highest); ties share."""
    if scores.size < 2:
        return np.ones_like(scores, dtype=np.float64)
    order = scores.argsort(kind="stable")
    places = np.empty(scores.size, dtype=np.float64)
    places[order] = np.arange(scores.size)
    # Ties: the mean place of equal scores.
    unique, inverse = np.unique(scores, return_inverse=True)
    if unique.size != scores.size:
        sums = np.bincount(inverse, weights=places)
        places = (sums / np.bincount(inverse))[inverse]
    return places / (scores.size - 1)


def model_weight(model: ReaderModel, tuning: Tuning) -> float:
    examples = model.examples
    return tuning.weight * examples / (examples + tuning.half_at)


def suggestions(
    model: ReaderModel,
    vectors: Matrix,
    scores: np.ndarray,
    matched: Iterable[int],
    exclude: Iterable[int],
    tuning: Tuning,
) -> list[Suggested]:
    """The best candidates no keyword caught that pass both bars, best first."""
    if tuning.suggestions <= 0 or model.positives.shape[0] == 0:
        return []
    evidence = scores - model.intercept
    barred = np.zeros(scores.size, dtype=bool)
    barred[list(matched)] = True
    barred[list(exclude)] = True
    candidates = np.flatnonzero(~barred & (evidence > 0))
    if candidates.size == 0:
        return []
    # The likeliest few first: only they need a similarity.
    best_first = candidates[np.argsort(-scores[candidates], kind="stable")]
    found: list[Suggested] = []
    for start in range(0, best_first.size, 4 * tuning.suggestions):
        block = best_first[start : start + 4 * tuning.suggestions]
        likes, similarity = model.most_similar_positive(vectors[block])
        for index, like, sim in zip(block, likes, similarity, strict=True):
            if sim >= tuning.min_similarity:
                found.append(Suggested(int(index), int(like), float(sim)))
                if len(found) == tuning.suggestions:
                    return found
    return found


def rank(
    model: ReaderModel,
    vectors: Matrix,
    matched: Sequence[int],
    exclude: Iterable[int] = (),
    tuning: Tuning = Tuning(),
) -> Ranked:
    """The digest's order for a reader with `model`: `vectors` are the window's
    candidates, `matched` the keyword matches among them (indices, best first);
    `exclude` are candidates never to suggest (ones the reader already judged)."""
    scores = model.scores(vectors)
    percentile = _percentiles(scores)
    weight = model_weight(model, tuning)
    depth = max(len(matched), tuning.min_depth)
    blended: list[tuple[float, int, int]] = []
    for place, index in enumerate(matched):
        keyword = 1.0 - place / depth
        blended.append(((1 - weight) * keyword + weight * percentile[index], -place, index))
    suggested = suggestions(model, vectors, scores, matched, exclude, tuning)
    for extra in suggested:
        blended.append((weight * percentile[extra.index], -len(matched), extra.index))
    blended.sort(reverse=True)
    order = [index for _, _, index in blended]
    chosen = {s.index: s for s in suggested}
    # A suggestion ranked past what the email shows moves up to its last places: it is
    # added to the digest, not left to the web copy, whatever the number of matches.
    late = [index for index in order[tuning.shown :] if index in chosen]
    if late:
        kept = [index for index in order if index not in late]
        at = max(tuning.shown - len(late), 0)
        order = kept[:at] + late + kept[at:]
    return Ranked(order, chosen)
