"""digest.learning, alone (no Django): the representation kept as bytes and built again,
a reader's model from likes and dislikes, and a window ranked by it, on real papers
(tests/relevance/v2/papers.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from digest.learning import rank, reader, representation

PAPERS = json.loads(
    (Path(__file__).parents[1] / "relevance" / "v2" / "papers.json").read_text(encoding="utf-8")
)
BY_ID = {paper["id"]: paper for paper in PAPERS}


def _text(paper_id: str) -> str:
    paper = BY_ID[paper_id]
    return representation.paper_text(paper["title"], paper.get("abstract", ""))


@pytest.fixture(scope="module")
def fitted() -> representation.HashedTfidf:
    rep = representation.HashedTfidf()
    rep.fit([representation.paper_text(p["title"], p.get("abstract", "")) for p in PAPERS])
    return rep


def test_the_representation_built_again_from_its_bytes_gives_the_same_vectors(fitted):
    texts = [_text(pid) for pid in ("2606.28199", "2606.27418", "1701.07875")]
    again = representation.load(fitted.kind, fitted.to_bytes())

    assert again.key == fitted.key
    first, second = fitted.transform(texts), again.transform(texts)
    assert (first != second).nnz == 0
    # Unit rows: a product is a cosine.
    assert np.allclose(np.sqrt(first.multiply(first).sum(axis=1)), 1.0)


def test_its_bytes_are_a_plain_array_that_loads_without_pickle(fitted):
    data = fitted.to_bytes()
    assert data.startswith(b"\x93NUMPY")
    with pytest.raises(ValueError):
        representation.HashedTfidf.from_bytes(data[:200])  # a cut array is refused
    with pytest.raises(ValueError, match="no representation of kind"):
        representation.load("embedding-not-installed", data)


def test_a_different_corpus_gives_a_different_key(fitted):
    other = representation.HashedTfidf()
    other.fit([_text(pid) for pid in list(BY_ID)[:50]])
    assert other.key != fitted.key


def test_likes_alone_make_a_centroid_and_both_sides_a_regression(fitted):
    vectors = fitted.transform([_text(pid) for pid in list(BY_ID)[:12]])

    liked_only = reader.train(vectors[:2], vectors[:0])
    both = reader.train(vectors[:4], vectors[4:8])

    assert liked_only.kind == reader.CENTROID and (
        liked_only.n_positive,
        liked_only.n_negative,
    ) == (2, 0)
    assert both.kind == reader.LOGISTIC
    assert reader.train(vectors[:0], vectors[:0]) is None
    # Its own examples score on their side.
    assert both.scores(vectors[:4]).min() > both.scores(vectors[4:8]).max()


def test_a_model_kept_as_bytes_scores_as_before(fitted):
    vectors = fitted.transform([_text(pid) for pid in list(BY_ID)[:20]])
    model = reader.train(vectors[:5], vectors[5:10])

    again = reader.from_bytes(
        reader.to_bytes(model),
        kind=model.kind,
        intercept=model.intercept,
        n_positive=5,
        n_negative=5,
    )

    assert np.allclose(again.scores(vectors), model.scores(vectors))
    assert (again.positives != model.positives).nnz == 0


def test_a_paper_like_a_liked_one_is_suggested_and_names_it(fitted):
    # Two papers on neural networks recognizing quantum phases; the reader's keywords
    # (gravitational waves) catch neither.
    liked, similar = "2606.28199", "2606.28201"
    window = [similar, "2606.27418", "2606.28161", "1701.07875", "2606.29767"]
    vectors = fitted.transform([_text(pid) for pid in window])
    model = reader.train(fitted.transform([_text(liked)]), fitted.transform([]))

    ranked = rank.rank(model, vectors, matched=[1, 2])

    assert list(ranked.suggested) == [0]
    assert ranked.suggested[0].like == 0 and ranked.suggested[0].similarity > 0.2
    assert set(ranked.order) == {0, 1, 2}  # the matches and the suggestion, nothing else


def test_a_paper_already_judged_is_never_suggested(fitted):
    window = ["2606.28201", "2606.27418"]
    vectors = fitted.transform([_text(pid) for pid in window])
    model = reader.train(fitted.transform([_text("2606.28199")]), fitted.transform([]))

    assert rank.rank(model, vectors, matched=[1], exclude=[0]).suggested == {}
