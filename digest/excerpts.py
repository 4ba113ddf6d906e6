"""The part of an abstract a short digest shows: the sentence(s) around what matched.

PURE PYTHON, no Django. A reader decides from the title and one or two sentences
whether a paper is worth opening; the sentence that holds the words their interest
matched says why it is in their digest better than the abstract's first 60 words.
The web copy shows whole abstracts.
"""

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

# Marks a cut; held to its word by a no-break space, so it never wraps onto a line alone.
ELLIPSIS = "…"
_BEFORE, _AFTER = ELLIPSIS + "\u00a0", "\u00a0" + ELLIPSIS
# A short digest shows at most about this many words of an abstract.
SHORT_WORDS = 40
# A sentence shorter than this gets its neighbour: alone it rarely says enough.
ENOUGH_WORDS = 18


@lru_cache(maxsize=50_000)
def word_pattern(word: str) -> re.Pattern[str]:
    """`word` as a whole word, any case. One pattern per word, not per set of words:
    the words repeat across papers and digests, their sets do not."""
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches


def word_spans(text: str, word: str, lowered: str | None = None) -> list[tuple[int, int]]:
    """Where `word` stands in `text` as a whole word, any case, from left to right and
    never overlapping: the spans word_pattern(word) finds (`lowered`: text.lower(),
    when the caller has it). ASCII text, most abstracts, is searched on its lower case
    with str.find, with no pattern compiled and run per word (a digest's cost, for the
    thousands of words a window's digests highlight); other text goes through the
    pattern, whose case folding str.lower does not follow everywhere (the Kelvin sign
    is a "k" to it, the long s an "s")."""
    if not word or not text.isascii() or not word.isascii():
        return [found.span() for found in word_pattern(word).finditer(text)]
    haystack = text.lower() if lowered is None else lowered
    needle, spans, end_of_text = word.lower(), [], len(text)
    at = haystack.find(needle)
    while at >= 0:
        end = at + len(needle)
        if (at == 0 or not _word_char(text[at - 1])) and (
            end == end_of_text or not _word_char(text[end])
        ):
            spans.append((at, end))
            at = haystack.find(needle, end)
        else:
            at = haystack.find(needle, at + 1)
    return spans


# Where a sentence may end: . ! or ? (and any closing quote or bracket), then space,
# then what can start a sentence.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z0-9\"'(\[$\\])")
# Words ending in a full stop that rarely end a sentence in an abstract.
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "al", "etc", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "secs"}
    | {"resp", "approx", "no", "ref", "refs", "dr", "prof", "st", "ca"}
)


def _ends_in_abbreviation(text: str) -> bool:
    last = text.rsplit(None, 1)[-1].lower().strip("([") if text.strip() else ""
    last = last.rstrip(".")
    # "J. Smith": a lone capital is an initial.
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


class _Layout(NamedTuple):
    """An abstract's sentences, where each starts in it, and their lengths in words."""

    parts: tuple[str, ...]
    starts: tuple[int, ...]
    counts: tuple[int, ...]


@lru_cache(maxsize=20_000)
def _layout(text: str) -> _Layout:
    """`text` cut into sentences, once per abstract: "e.g.", "et al.", "Fig. 2" or "3.5"
    end none."""
    parts, starts, start = [], [], 0
    for boundary in _BOUNDARY.finditer(text):
        end = boundary.start() + 1
        if _ends_in_abbreviation(text[start:end]):
            continue
        parts.append(text[start : boundary.end()].strip())
        starts.append(start)
        start = boundary.end()
    if text[start:].strip():
        parts.append(text[start:].strip())
        starts.append(start)
    return _Layout(tuple(parts), tuple(starts), tuple(len(part.split()) for part in parts))


def sentences(text: str) -> tuple[str, ...]:
    """`text` cut into sentences; "e.g.", "et al.", "Fig. 2" or "3.5" end none."""
    return _layout(text).parts


def _trim_around(sentence: str, words: Sequence[str], limit: int) -> tuple[str, bool, bool]:
    """A sentence longer than `limit` words cut to `limit` words around its first
    match; and whether words were cut before and after."""
    tokens = sentence.split()
    lowered = sentence.lower()
    starts = (spans[0][0] for word in words if (spans := word_spans(sentence, word, lowered)))
    at = len(sentence[: min(starts, default=0)].split())
    # The match a third of the way in: what leads to it, and more of what follows.
    begin = max(0, min(at - limit // 3, len(tokens) - limit))
    return " ".join(tokens[begin : begin + limit]), begin > 0, begin + limit < len(tokens)


def _around(counts: Sequence[int], best: int, limit: int) -> tuple[int, int]:
    """The first and last sentence to show: `best`, and its neighbours while it is short."""
    first, last = best, best
    length = counts[best]
    while length < ENOUGH_WORDS:
        # The next sentence continues the thought; at the end, the one before sets it up.
        neighbour = last + 1 if last + 1 < len(counts) else first - 1
        if neighbour < 0 or length + counts[neighbour] > limit:
            break
        length += counts[neighbour]
        first, last = min(first, neighbour), max(last, neighbour)
    return first, last


@lru_cache(maxsize=100_000)
def _sentences_holding(text: str, word: str) -> frozenset[int]:
    """Which sentences of `text` hold `word`: once per abstract and word, which recur
    across digests far more than the sets of words do."""
    starts = _layout(text).starts
    return frozenset(bisect_right(starts, start) - 1 for start, _ in word_spans(text, word))


def excerpt(text: str, words: Iterable[str], limit: int = SHORT_WORDS) -> str:
    """About `limit` words of `text` around `words`: the sentence holding most of them
    (the first sentence when none is there: the title matched), with its neighbour
    when it is short. Cuts are marked with "…"; a short `text` is given whole."""
    parts, _, counts = _layout(text)
    if sum(counts) <= limit:
        return text
    words = [word for word in dict.fromkeys(words) if word.strip()]
    hits = [0] * len(parts)
    for word in words:
        for sentence in _sentences_holding(text, word):
            hits[sentence] += 1
    best = max(range(len(parts)), key=lambda n: (hits[n], -n))
    if counts[best] > limit:
        shown, cut_before, cut_after = _trim_around(parts[best], words, limit)
        cut_before, cut_after = cut_before or best > 0, cut_after or best < len(parts) - 1
    else:
        first, last = _around(counts, best, limit)
        shown = " ".join(parts[first : last + 1])
        cut_before, cut_after = first > 0, last < len(parts) - 1
    return f"{_BEFORE if cut_before else ''}{shown}{_AFTER if cut_after else ''}"
