"""One reader's model: what they liked (their "more like this" clicks and the papers
they follow) against what they did not ("less like this"), as a linear score over a
representation's vectors.

With enough examples of both, a logistic regression (balanced classes: three likes
weigh as much as thirty dislikes; a small C: few examples, many features); else a
centroid (Rocchio): the mean of the likes minus part of the mean of the dislikes.
Either is a weight vector and an intercept, so scoring a window is one product.

Cheap by construction: a reader has tens of examples, so the regression is fitted on
the columns their examples use only (a few thousand of 2^18), and only the largest
weights are kept. The vectors come in: a training run vectorizes its papers once.
"""

import io
from dataclasses import dataclass

import numpy as np
import sklearn
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from digest.learning.representation import Matrix

LOGISTIC, CENTROID = "logistic", "centroid"
# A regression needs this many examples of each side; fewer, and a centroid says more.
MIN_PER_CLASS = 3
# Inverse regularization of the regression: tens of examples, thousands of columns.
C = 1.0
# A dislike moves the centroid away by this much of the dislikes' mean.
DISLIKE_WEIGHT = 0.5
# Weights kept per reader (the largest): bounds a model's row to ~16 KB.
MAX_WEIGHTS = 2048
# Likes kept with the model, to name the one a suggestion is most like.
MAX_POSITIVES_KEPT = 30


@dataclass(frozen=True)
class ReaderModel:
    kind: str
    indices: np.ndarray  # int32 columns of the representation
    weights: np.ndarray  # float32, one per index
    intercept: float
    # The liked papers' vectors (the newest MAX_POSITIVES_KEPT), rows in the order of
    # the positives given to `train`.
    positives: sparse.csr_matrix
    n_positive: int
    n_negative: int

    @property
    def examples(self) -> int:
        return self.n_positive + self.n_negative

    def _full_weights(self, width: int) -> np.ndarray:
        full = np.zeros(width, dtype=np.float32)
        full[self.indices] = self.weights
        return full

    def evidence(self, vectors: Matrix) -> np.ndarray:
        """Each row's score without the intercept: > 0 when its words lean toward the
        likes, < 0 toward the dislikes."""
        if vectors.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(vectors @ self._full_weights(vectors.shape[1])).ravel()

    def scores(self, vectors: Matrix) -> np.ndarray:
        return self.evidence(vectors) + self.intercept

    def most_similar_positive(self, vectors: Matrix) -> tuple[np.ndarray, np.ndarray]:
        """For each row, the kept like it is most similar to (its row in `positives`)
        and that cosine; (-1, 0.0) when no like is kept."""
        rows = vectors.shape[0]
        if self.positives.shape[0] == 0 or rows == 0:
            return np.full(rows, -1), np.zeros(rows, dtype=np.float32)
        similarity = sparse.csr_matrix(vectors @ self.positives.T).toarray()
        best = similarity.argmax(axis=1)
        return best, similarity[np.arange(rows), best]


def _as_csr(matrix: Matrix) -> sparse.csr_matrix:
    return matrix.tocsr() if sparse.issparse(matrix) else sparse.csr_matrix(matrix)


def _top(weights: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The MAX_WEIGHTS largest weights (by size) and their columns, nonzero only."""
    keep = np.flatnonzero(weights)
    if keep.size > MAX_WEIGHTS:
        keep = keep[np.argpartition(-np.abs(weights[keep]), MAX_WEIGHTS)[:MAX_WEIGHTS]]
    keep.sort()
    return columns[keep].astype(np.int32), weights[keep].astype(np.float32)


def _logistic(positives: sparse.csr_matrix, negatives: sparse.csr_matrix) -> tuple:
    examples = sparse.vstack([positives, negatives]).tocsr()
    labels = np.r_[np.ones(positives.shape[0]), np.zeros(negatives.shape[0])]
    # Only the columns the examples use (every other weight would be 0 anyway),
    # renumbered in one pass over the stored values.
    columns, renumbered = np.unique(examples.indices, return_inverse=True)
    compact = sparse.csr_matrix(
        (examples.data, renumbered, examples.indptr), shape=(examples.shape[0], columns.size)
    )
    # class_weight="balanced" as sample weights (n / (2 * class count)), and sklearn's
    # checks of inputs built right here skipped: half of a fit's time otherwise.
    counts = np.array([negatives.shape[0], positives.shape[0]], dtype=np.float64)
    balanced = (labels.size / (2 * counts))[labels.astype(np.int64)]
    fitted = LogisticRegression(C=C, solver="liblinear")
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        fitted.fit(compact, labels, sample_weight=balanced)
    indices, weights = _top(fitted.coef_[0], columns)
    return indices, weights, float(fitted.intercept_[0])


def _unit_mean(rows: sparse.csr_matrix, columns: np.ndarray) -> np.ndarray:
    """The rows' mean direction (unit length) over `columns` (sorted, holding every
    column the rows use): sums of the stored values, never a dense row of 2^18."""
    sums = np.zeros(columns.size, dtype=np.float64)
    if rows.nnz:
        np.add.at(sums, np.searchsorted(columns, rows.indices), rows.data)
    size = np.linalg.norm(sums)
    return sums / size if size else sums


def _centroid(positives: sparse.csr_matrix, negatives: sparse.csr_matrix) -> tuple:
    columns = np.unique(np.r_[positives.indices, negatives.indices])
    direction = np.zeros(columns.size, dtype=np.float64)
    if positives.shape[0]:
        direction += _unit_mean(positives, columns)
    if negatives.shape[0]:
        direction -= DISLIKE_WEIGHT * _unit_mean(negatives, columns)
    indices, weights = _top(direction, columns)
    return indices, weights, 0.0


def train(positives: Matrix, negatives: Matrix) -> ReaderModel | None:
    """A reader's model from their liked rows and disliked rows (None: no example).

    Both are rows of one representation (same width). The newest likes come first in
    `positives`: those are kept to explain suggestions."""
    positives, negatives = _as_csr(positives), _as_csr(negatives)
    n_positive, n_negative = positives.shape[0], negatives.shape[0]
    if not n_positive and not n_negative:
        return None
    if n_positive >= MIN_PER_CLASS and n_negative >= MIN_PER_CLASS:
        kind, (indices, weights, intercept) = LOGISTIC, _logistic(positives, negatives)
    else:
        kind, (indices, weights, intercept) = CENTROID, _centroid(positives, negatives)
    kept = positives[:MAX_POSITIVES_KEPT].astype(np.float32)
    return ReaderModel(kind, indices, weights, intercept, kept, n_positive, n_negative)


def to_bytes(model: ReaderModel) -> bytes:
    """The model's arrays as one .npz (numpy arrays only: loading runs no code)."""
    out = io.BytesIO()
    kept = model.positives
    np.savez(
        out,
        indices=model.indices,
        weights=model.weights,
        positives_data=kept.data.astype(np.float32),
        positives_indices=kept.indices.astype(np.int32),
        positives_indptr=kept.indptr.astype(np.int64),
        positives_shape=np.array(kept.shape, dtype=np.int64),
    )
    return out.getvalue()


def from_bytes(
    data: bytes, *, kind: str, intercept: float, n_positive: int, n_negative: int
) -> ReaderModel:
    """The model `to_bytes` wrote, with what its row keeps beside the arrays."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        kept = sparse.csr_matrix(
            (arrays["positives_data"], arrays["positives_indices"], arrays["positives_indptr"]),
            shape=tuple(arrays["positives_shape"]),
        )
        return ReaderModel(
            kind, arrays["indices"], arrays["weights"], intercept, kept, n_positive, n_negative
        )
