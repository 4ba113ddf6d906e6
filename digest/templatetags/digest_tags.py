"""Template filters for digests and previews."""

import html
from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe

from digest.excerpts import word_spans

register = template.Library()


def _marked_spans(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    """Where to put <mark>s: from left to right, at each place the longest word found
    there ("language models" wins over "language"), never overlapping."""
    lowered = text.lower()
    found = sorted(
        (start, -end)
        for word in {w for w in words if w and w.strip()}
        for start, end in word_spans(text, word, lowered)
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
    ("Mixture-of-Experts", "LLMs"), so finding them again is a plain search. The
    search runs on the text, and each piece is escaped after: a word never matches
    inside an entity the escaping made ("lt" in "&lt;").
    """
    text = str(text)
    # The pieces are plain str (a slice of a SafeString is one): Django's escape is
    # html.escape, without its wrappers' cost for each of a digest's many pieces.
    escaped = html.escape if autoescape else str
    parts, done = [], 0
    for start, end in _marked_spans(text, words):
        parts += [escaped(text[done:start]), "<mark>", escaped(text[start:end]), "</mark>"]
        done = end
    parts.append(escaped(text[done:]))
    return mark_safe("".join(parts))
