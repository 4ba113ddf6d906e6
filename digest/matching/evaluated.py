"""Readers' clauses evaluated on a paper once, when it comes, and read back by every
window it is in: a percolator, as alert services run their stored queries against
each new document.

Evaluating the clauses of every distinct interest on a window's papers is most of
what building a window's index costs (the candidates' phrases, proximity and
aboutness, in Python), and each paper is in seven daily windows and a weekly one.
A paper's clauses are the same wherever it is: so the fetch that brings a paper
evaluates every reader's clauses on it (engine.PaperIndex.evaluations), and stores
which clauses it evaluated (a `clause set`, shared by the papers of one fetch) and
what each found there (the hits, most clauses finding nothing). An index given
those records (PaperIndex(evaluated=...)) takes their hits as they are, and
evaluates only the clauses a paper's record lacks (interests written since, until
the next fetch adds them: engine.clause_keys says what a record must hold).

A record holds for the texts, authors and categories it was made of and for this
analyser (`key`): any other is never read. Only the default concepts' clauses are
recorded.
"""

import hashlib
import marshal
import zlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from digest.matching.evaluate import Document, Hit
from digest.matching.query import Clause
from digest.matching.stored import fingerprint

# Bumped when the layout of the bytes changes.
FORMAT = 1

_keys: dict[Clause, str] = {}


def clause_key(clause: Clause) -> str:
    """A clause's name in records: a digest of what it was compiled to (its repr: plain
    strings and tuples), the same in every process of one analyser."""
    found = _keys.get(clause)
    if found is None:
        if len(_keys) > 200_000:  # a bound for a long-lived process; refilled as asked
            _keys.clear()
        found = _keys[clause] = hashlib.blake2b(repr(clause).encode(), digest_size=8).hexdigest()
    return found


def key(document: Document) -> str:
    """What a paper's record is made of: this analyser (the key starts with its
    fingerprint), the format, the paper's title, abstract, authors and categories
    (author and category clauses read the last two)."""
    digest = hashlib.blake2b(digest_size=12)
    for text in (document.title, document.abstract, *document.authors, "\1", *document.categories):
        digest.update(text.encode())
        digest.update(b"\0")
    return f"{fingerprint()}-{FORMAT}-{digest.hexdigest()}"


class Evaluated(NamedTuple):
    """One paper's record: its `key`, the clauses evaluated on it (by clause_key; one
    frozenset shared by the papers evaluated together) and the hits of those that found
    something there."""

    key: str
    clauses: frozenset[str]
    hits: Mapping[str, Hit]


def dumps_hits(hits: Mapping[str, Hit]) -> bytes:
    return marshal.dumps(
        {name: (tuple(sorted(hit.fields)), hit.words, hit.loose) for name, hit in hits.items()}
    )


def loads_hits(data: bytes, shared: dict[tuple, Hit] | None = None) -> dict[str, Hit]:
    """The hits `dumps_hits` wrote; equal ones the same Hit across the records read with
    one `shared` dict (most hits are the same words in the same field of many papers)."""
    shared = {} if shared is None else shared
    found = {}
    for name, value in marshal.loads(data).items():
        hit = shared.get(value)
        if hit is None:
            fields, words, loose = value
            hit = shared[value] = Hit(frozenset(fields), words, loose)
        found[name] = hit
    return found


def dumps_clauses(clauses: Iterable[str]) -> bytes:
    return zlib.compress(marshal.dumps(tuple(sorted(clauses))), 1)


def loads_clauses(data: bytes) -> frozenset[str]:
    return frozenset(marshal.loads(zlib.decompress(data)))


def clauses_digest(clauses: Iterable[str]) -> str:
    """The name of a set of clauses: the same set, the same name."""
    return hashlib.blake2b("\n".join(sorted(clauses)).encode(), digest_size=16).hexdigest()


def read(
    key: str, clauses: frozenset[str], data: bytes, shared: dict[tuple, Hit] | None = None
) -> Evaluated:
    """A record read back: its key, clause set (read once for all the papers that share
    it: loads_clauses) and hits bytes (dumps_hits; `shared`: see loads_hits)."""
    return Evaluated(key, clauses, loads_hits(data, shared))
