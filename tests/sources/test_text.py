"""clean_text skips the HTML parser for text with no tag and no entity in it, and folds
whitespace without a regex: the same results as parsing every value, on every text."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.sources import text
from digest.sources.text import clean_text

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parsed_every_time(value: str) -> str:
    """clean_text as it was: every value with a "<" or "&" through the HTML parser."""
    if not value:
        return ""
    value = _CONTROL.sub("", value)
    if "<" in value or "&" in value:
        value = text._text_of_markup(value)
    return re.sub(r"\s+", " ", value).strip()


PIECES = [
    "<", ">", "&", ";", "#", "x", "/", "=", '"', " ", "\n", "\t", "\r", "\x0b", "\x00", "\x85",
    "\xa0", "\u2028", "\u3000", "\x1c", "$", "k", "n", "amp", "lt", "gt", "eacute", "copy",
    "copyright", "#60", "#x3c", "#x", "#233", "p", "b", "br", "sub", "script", "style", "div",
    "&amp;", "&lt;", "&amp;lt;", "&#233;", "&#x41;", "&eacute;", "&nosuch;", "&copy", "<b>",
    "</b>", "<p>", "<br/>", "<sub>2</sub>", "<script>x</script>", "<a href='x'>", "<!--",
    "-->", "<![CDATA[", "$k<n$", "Q&A", "AT&T", "é", "💡",
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=12).map("".join))
def test_clean_text_is_what_parsing_every_value_gives(value):
    assert clean_text(value) == parsed_every_time(value)


def test_plain_text_with_math_and_ampersands_is_not_parsed_as_html(monkeypatch):
    def no_parser(value):
        raise AssertionError("parsed")

    monkeypatch.setattr(text, "_text_of_markup", no_parser)

    assert clean_text(" We show $k<n$ &  $a>b$,\n R&D, Q&A ") == "We show $k<n$ & $a>b$, R&D, Q&A"


def test_markup_and_entities_still_are():
    assert clean_text("<p>Graph <b>neural</b></p>&eacute;t&#233; &amp;lt;") == "Graph neural été <"
