"""Papers' text as vectors, behind one small interface (`Representation`), so an
operator can plug in another (an embedding model) without touching the readers' models.

The default, `HashedTfidf`, needs nothing installed beyond scikit-learn: hashed word
unigrams and bigrams (no vocabulary to keep: any word of a new paper has its column)
weighted by an idf fitted on the stored papers. What it keeps is the idf vector, as
the bytes of one .npy array: loading it runs no code (allow_pickle=False), so a row
of the database can never become a way to run anything.
"""

import hashlib
import io
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

# What a representation gives: one row per text, each row of unit length (L2), so a
# dot product of two rows is their cosine. Sparse (CSR) or dense alike.
Matrix = sparse.csr_matrix | np.ndarray


class Representation(Protocol):
    """How papers' texts become vectors. `kind` names the implementation (stored with
    its bytes); `key` changes whenever what `transform` gives does, so the readers'
    models trained on another are retrained."""

    kind: str

    @property
    def key(self) -> str: ...

    def fit(self, texts: Sequence[str]) -> None:
        """Learn what the representation needs from the corpus (the stored papers)."""

    def transform(self, texts: Sequence[str]) -> Matrix:
        """One unit-length row per text."""

    def to_bytes(self) -> bytes:
        """What `load(kind, data)` needs to build this one again; never a pickle."""


def paper_text(title: str, abstract: str) -> str:
    """A paper's text for the representation: the title counts twice, as it says
    what the paper is about in the fewest words."""
    return f"{title}\n{title}\n{abstract}"


class HashedTfidf:
    """Hashed word + bigram counts (sublinear tf) times an idf fitted on a corpus."""

    kind = "hashed-tfidf-1"
    N_FEATURES = 2**18

    def __init__(self, idf: np.ndarray | None = None) -> None:
        self._vectorizer = HashingVectorizer(
            n_features=self.N_FEATURES,
            ngram_range=(1, 2),
            alternate_sign=False,
            norm=None,
            stop_words="english",
            dtype=np.float32,
        )
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        self._idf: np.ndarray | None = None
        if idf is not None:
            self._set_idf(idf)

    def _set_idf(self, idf: np.ndarray) -> None:
        if idf.shape != (self.N_FEATURES,):
            raise ValueError(f"an idf of {self.N_FEATURES} features, not {idf.shape}")
        self._idf = idf.astype(np.float32)
        self._tfidf.idf_ = self._idf

    @property
    def key(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()[:16]

    def fit(self, texts: Sequence[str]) -> None:
        self._tfidf.fit(self._vectorizer.transform(texts))
        self._set_idf(self._tfidf.idf_)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self._idf is None:
            raise ValueError("fit the representation first")
        if not texts:
            return sparse.csr_matrix((0, self.N_FEATURES), dtype=np.float32)
        weighted = self._tfidf.transform(self._vectorizer.transform(texts))
        return normalize(weighted.astype(np.float32), copy=False).tocsr()

    def to_bytes(self) -> bytes:
        if self._idf is None:
            raise ValueError("fit the representation first")
        out = io.BytesIO()
        np.save(out, self._idf, allow_pickle=False)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "HashedTfidf":
        return cls(np.load(io.BytesIO(data), allow_pickle=False))


# kind -> (a new one, to fit; one built again from its bytes). An operator's embedding
# model registers here (its bytes: whatever it needs, e.g. the model's name and
# version; never a pickle) and is chosen with the LEARNING_REPRESENTATION setting.
KINDS: dict[str, tuple[Callable[[], Representation], Callable[[bytes], Representation]]] = {
    HashedTfidf.kind: (HashedTfidf, HashedTfidf.from_bytes),
}


def register(
    kind: str, new: Callable[[], Representation], load: Callable[[bytes], Representation]
) -> None:
    KINDS[kind] = (new, load)


def _kind(kind: str) -> tuple[Callable[[], Representation], Callable[[bytes], Representation]]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"no representation of kind {kind!r} is installed") from None


def new(kind: str) -> Representation:
    """An unfitted representation of `kind`."""
    return _kind(kind)[0]()


def load(kind: str, data: bytes) -> Representation:
    """The representation of `kind` that `data` (its to_bytes) describes."""
    return _kind(kind)[1](data)
