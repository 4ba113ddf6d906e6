"""Template filters for digests and previews."""

import re
from collections.abc import Iterable
from functools import lru_cache

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@lru_cache(maxsize=50_000)
def _word_pattern(word: str) -> re.Pattern[str]:
    # Over the escaped text, so the word is escaped too. One pattern per word, not
    # per set of words: the words repeat across papers and digests, their sets do not.
    return re.compile(r"(?<!\w)" + re.escape(escape(word)) + r"(?!\w)", re.IGNORECASE)


def _marked_spans(escaped: str, words: Iterable[str]) -> list[tuple[int, int]]:
    """Where to put <mark>s: from left to right, at each place the longest word found
    there ("language models" wins over "language"), never overlapping."""
    found = sorted(
        (match.start(), -match.end())
        for word in {w for w in words if w and w.strip()}
        for match in _word_pattern(word).finditer(escaped)
    )
    spans, end = [], 0
    for start, negative_end in found:
        if start >= end:
            end = -negative_end
            spans.append((start, end))
    return spans


@register.filter(needs_autoescape=True)
def highlight(text: str, words: Iterable[str], autoescape: bool = True) -> SafeString:
    """`text` escaped, with each whole-word occurrence of `words` wrapped in <mark>.

    The words are the ones the engine matched, as written in the paper
    ("Mixture-of-Experts", "LLMs"), so finding them again is a plain search.
    """
    escaped = str(conditional_escape(text)) if autoescape else text
    parts, done = [], 0
    for start, end in _marked_spans(escaped, words):
        parts += [escaped[done:start], "<mark>", escaped[start:end], "</mark>"]
        done = end
    parts.append(escaped[done:])
    return mark_safe("".join(parts))
