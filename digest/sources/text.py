"""Feed text to clean plain text: entities resolved, tags dropped, whitespace folded."""

import html
import re
import warnings
from html.entities import html5

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

# A feed's title or abstract may be just an address; it is text to read, never a page
# to fetch, so bs4's hint that it "looks like a URL" says nothing here.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning, module=__name__)

_WHITESPACE = re.compile(r"\s+")
# Control characters other than whitespace: no feed text has them on purpose, and
# PostgreSQL refuses NUL in text and jsonb columns (JSON feeds can carry "\u0000").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENTITY = re.compile(r"&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)?")

# Tags that feeds really use. Any other "<" is text: abstracts are full of math
# like "$k<n$" or "$a<b$ and $c>d$", which an HTML parser would swallow as a tag.
_HTML_TAGS = (
    "a|abbr|article|audio|b|big|blockquote|br|button|caption|center|cite|code|dd|del|div|dl|dt|"
    "em|embed|figcaption|figure|font|form|h[1-6]|header|footer|hr|i|iframe|img|input|ins|kbd|li|"
    "link|main|mark|meta|nav|noscript|object|ol|p|pre|q|s|samp|script|section|small|source|span|"
    "strike|strong|style|sub|sup|svg|table|tbody|td|th|thead|time|tr|tt|u|ul|var|video"
)
# Whose content is not text a reader should see, in a feed or anywhere.
_DROPPED_WITH_CONTENT = ["script", "style", "noscript", "iframe", "object", "svg"]
_NOT_A_TAG = re.compile(rf"<(?!/?(?:{_HTML_TAGS})(?:\s[^<>]*)?/?>)", re.IGNORECASE)
# Exactly the "<" that _NOT_A_TAG leaves alone: the start of a tag.
_TAG = re.compile(rf"<(?=/?(?:{_HTML_TAGS})(?:\s[^<>]*)?/?>)", re.IGNORECASE)
# What the HTML parser or _decode_complete_entities would decode: _ENTITY with a reference.
_REFERENCE = re.compile(r"&(?:#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
# Block tags end a word; inline ones (<sub> in "H<sub>2</sub>O") do not.
_BLOCK_TAGS = ["br", "p", "div", "li", "dd", "dt", "tr", "td", "th", "blockquote", "hr", "pre"]
_BLOCK_TAGS += [f"h{level}" for level in range(1, 7)]


def _escape_bare_ampersand(match: re.Match[str]) -> str:
    # The HTML parser drops a bare "&" before letters ("Q&A" -> "QA"); keep it as text.
    reference = match.group(1)
    if reference and (reference.startswith("#") or reference in html5):
        return match.group(0)
    return "&amp;" + (reference or "")


def _decode_complete_entities(text: str) -> str:
    # Only "&name;" forms: html.unescape alone would also turn "&copyright" into "©right".
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)) if m.group(1) else m.group(0), text)


def _text_of_markup(value: str) -> str:
    """The text an HTML parser reads in `value`, tags dropped, entities decoded."""
    markup = _NOT_A_TAG.sub("&lt;", _ENTITY.sub(_escape_bare_ampersand, value))
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_DROPPED_WITH_CONTENT):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(" ")
        tag.insert_after(" ")
    # Feeds that escape twice ("&amp;lt;") leave an entity behind after one pass.
    return _decode_complete_entities(soup.get_text())


def clean_text(value: str) -> str:
    """Plain text of a feed field. LaTeX (`$\\times$`, `\\textbf{x}`) is left as written."""
    if not value:
        return ""
    value = _CONTROL.sub("", value)
    # Most feed text is plain already, "<" and "&" included ("$k<n$", "R&D"): with no
    # tag and no entity in it, the HTML parser would give it back as it is (each "<"
    # and bare "&" is escaped for it first), so it is not parsed.
    if ("<" in value or "&" in value) and (_TAG.search(value) or _REFERENCE.search(value)):
        value = _text_of_markup(value)
    # _WHITESPACE.sub(" ", value).strip(), five times faster: str.split() splits on
    # exactly the characters that \s matches.
    return " ".join(value.split())
