"""Which papers match a subscriber's interests, and why.

Pure Python, no Django: the engine can be tested and benchmarked alone. This is
the simple first engine: each interest is a run of words matched
case-insensitively on word boundaries, with a hyphen, a space or nothing
between the words ("mixture of experts" finds "Mixture-of-Experts"). Callers
use only `validate_interest` and `match_papers`, so a better engine can replace
this one behind the same two functions.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_INTEREST_LENGTH = 200

TITLE_WEIGHT = 2.0
ABSTRACT_WEIGHT = 1.0

_WORD = re.compile(r"\w+")


class InterestSyntaxError(ValueError):
    """An interest that cannot be used; the message says what is wrong, for people."""


@dataclass(frozen=True)
class Document:
    """The text of one paper, as the engine sees it."""

    id: str
    title: str
    abstract: str = ""
    upvotes: int = 0


@dataclass(frozen=True)
class Reason:
    """One interest that matched, the words it matched and where."""

    interest: str
    matched: tuple[str, ...]
    fields: tuple[str, ...]  # "title", "abstract"


@dataclass(frozen=True)
class Result:
    document_id: str
    score: float
    reasons: tuple[Reason, ...]


def validate_interest(text: str) -> str:
    """Return the interest tidied up, or raise InterestSyntaxError saying why not."""
    tidy = " ".join(text.split())
    if not tidy:
        raise InterestSyntaxError("An interest cannot be empty.")
    if len(tidy) > MAX_INTEREST_LENGTH:
        raise InterestSyntaxError(
            f"An interest can be at most {MAX_INTEREST_LENGTH} characters "
            f"(this one has {len(tidy)})."
        )
    if not _WORD.search(tidy):
        raise InterestSyntaxError(f"{tidy!r} has no letters or digits to look for.")
    return tidy


@lru_cache(maxsize=4096)
def _pattern(interest: str) -> re.Pattern[str]:
    words = _WORD.findall(interest)
    # Words may be joined by a hyphen, spaces, or nothing ("pre-training",
    # "pre training", "pretraining"); \b on both ends keeps "RL" out of "URL".
    between = r"[\s\-]*"
    return re.compile(r"\b" + between.join(map(re.escape, words)) + r"\b", re.IGNORECASE)


def _match_one(interest: str, document: Document) -> Reason | None:
    pattern = _pattern(interest)
    matched: list[str] = []
    fields: list[str] = []
    for field, text in (("title", document.title), ("abstract", document.abstract)):
        found = pattern.findall(text)
        if found:
            fields.append(field)
            matched.extend(found)
    if not fields:
        return None
    unique = tuple(dict.fromkeys(word.lower() for word in matched))
    return Reason(interest=interest, matched=unique, fields=tuple(fields))


def _score(reasons: Sequence[Reason]) -> float:
    return sum(TITLE_WEIGHT if "title" in reason.fields else ABSTRACT_WEIGHT for reason in reasons)


def match_papers(interests: Sequence[str], documents: Iterable[Document]) -> list[Result]:
    """The documents that match any interest, best first.

    Ranking: title matches above abstract-only ones, more interests above
    fewer, then upvotes, then id so the order is stable.
    """
    scored: list[tuple[Result, int]] = []
    for document in documents:
        reasons = [r for r in (_match_one(i, document) for i in interests) if r is not None]
        if reasons:
            result = Result(document.id, _score(reasons), tuple(reasons))
            scored.append((result, document.upvotes))
    scored.sort(key=lambda pair: (-pair[0].score, -pair[1], pair[0].document_id))
    return [result for result, _ in scored]
