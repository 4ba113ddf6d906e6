"""Feed text to clean plain text: entities resolved, tags dropped, whitespace folded."""

import html
import re

from bs4 import BeautifulSoup

_WHITESPACE = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Plain text of a feed field. LaTeX (`$\\times$`, `\\textbf{x}`) is left as written."""
    if not value:
        return ""
    if "<" in value or "&" in value:
        value = BeautifulSoup(value, "html.parser").get_text(" ")
        # feeds that escape twice ("&amp;lt;") leave an entity behind after one pass
        value = html.unescape(value)
    return _WHITESPACE.sub(" ", value).strip()
