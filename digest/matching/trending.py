"""`trending`: the period's most upvoted papers on Hugging Face, as an interest line.

    trending        the 10 most upvoted papers of each digest's period
    trending:5      the 5 most upvoted (1 to 25)

It is no query: it finds papers by their upvotes, not their words, so the engine
skips it (engine.queries) and the digest adds its papers (digest/compose.py).
Only a line that is exactly the word, or starts with "trending:", is one:
"trending topics in NLP" stays words to look for.
"""

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from digest.matching.query import InterestSyntaxError

WORD = "trending"
DEFAULT_COUNT = 10
# A digest shows 25 papers (DIGEST_MAX_PAPERS): more would push every match out.
MAX_COUNT = 25
# What the digest says each of its papers is there for.
FIELD = "trending"

_LINE = re.compile(r"\s*trending\s*(?::\s*(?P<count>\S*)\s*)?", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]{1,6}")


def is_trending(text: str) -> bool:
    """True when `text` is a trending line, well formed or not."""
    return _LINE.fullmatch(text) is not None


def trending_count(text: str) -> int | None:
    """How many papers a trending line asks for; None for any other line.

    Raises InterestSyntaxError for a count that is no number or out of bounds.
    """
    found = _LINE.fullmatch(text)
    if found is None:
        return None
    count = found.group("count")
    if count is None:
        return DEFAULT_COUNT
    bounds = f"from 1 to {MAX_COUNT}"
    if not _DIGITS.fullmatch(count):
        shown = count or "nothing"
        raise InterestSyntaxError(
            f"trending: takes a number of papers, {bounds} (“trending:10”), not “{shown}”"
        )
    number = int(count)
    if not 1 <= number <= MAX_COUNT:
        raise InterestSyntaxError(
            f"trending:{number} asks for {'no' if number == 0 else number} papers: "
            f"write a number {bounds}, or “trending” alone for {DEFAULT_COUNT}"
        )
    return number


def tidy(text: str) -> str:
    """A trending line as it is kept: "trending" (the default count) or "trending:N"."""
    count = trending_count(text)
    if count is None:
        raise ValueError(f"not a trending line: {text!r}")
    return WORD if count == DEFAULT_COUNT and ":" not in text else f"{WORD}:{count}"


def wanted(interests: Iterable[str]) -> tuple[int, str]:
    """How many trending papers a subscriber's interests ask for (the largest of their
    trending lines; 0 for none) and the line that asks. Broken lines count as none."""
    best, line = 0, ""
    for text in interests:
        try:
            count = trending_count(text)
        except InterestSyntaxError:
            continue
        if count is not None and count > best:
            best, line = count, text
    return best, line


T = TypeVar("T")


def by_upvotes(papers: Iterable[T], ident: Callable[[T], str]) -> list[T]:
    """Papers with upvotes on Hugging Face (at least one), most upvoted first; ties by
    `ident` (the paper's id), so the order is the same on every worker."""
    voted = [paper for paper in papers if getattr(paper, "upvotes", None)]
    voted.sort(key=lambda paper: (-paper.upvotes, ident(paper)))
    return voted
