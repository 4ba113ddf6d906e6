"""Template filters for digests and previews."""

import re
from collections.abc import Iterable
from functools import lru_cache

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@lru_cache(maxsize=20_000)
def _pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    # Over the escaped text, so the words are escaped too; longest first, so
    # "language models" wins over "language".
    wanted = sorted({escape(word) for word in words}, key=len, reverse=True)
    if not wanted:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, wanted)) + r")(?!\w)", re.IGNORECASE)


@register.filter(needs_autoescape=True)
def highlight(text: str, words: Iterable[str], autoescape: bool = True) -> SafeString:
    """`text` escaped, with each whole-word occurrence of `words` wrapped in <mark>.

    The words are the ones the engine matched, as written in the paper
    ("Mixture-of-Experts", "LLMs"), so finding them again is a plain search.
    """
    escaped = str(conditional_escape(text)) if autoescape else text
    pattern = _pattern(frozenset(w for w in words if w and w.strip()))
    if pattern is None:
        return mark_safe(escaped)
    return mark_safe(pattern.sub(r"<mark>\1</mark>", escaped))
