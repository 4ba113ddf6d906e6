"""Template filters for digests and previews."""

import re
from collections.abc import Iterable

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter(needs_autoescape=True)
def highlight(text: str, words: Iterable[str], autoescape: bool = True) -> SafeString:
    """`text` escaped, with each whole-word occurrence of `words` wrapped in <mark>.

    The words are the ones the engine matched, as written in the paper
    ("Mixture-of-Experts", "LLMs"), so finding them again is a plain search.
    """
    escape = conditional_escape if autoescape else str
    wanted = sorted({w for w in words if w and w.strip()}, key=len, reverse=True)
    if not wanted:
        return mark_safe(escape(text))
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, wanted)) + r")(?!\w)", re.IGNORECASE)
    pieces, last = [], 0
    for found in pattern.finditer(text):
        pieces.append(escape(text[last : found.start()]))
        pieces.append(f"<mark>{escape(found.group(0))}</mark>")
        last = found.end()
    pieces.append(escape(text[last:]))
    return mark_safe("".join(str(piece) for piece in pieces))
