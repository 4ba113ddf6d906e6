"""`like:2403.12345`: papers like that one, as an interest line (a seed).

    like:2403.12345                  a new-style arXiv id
    like:2403.12345v2                with a version (the paper is the same: kept without)
    like:hep-th/9901001              an old-style id
    like:https://arxiv.org/abs/2403.12345, like:arxiv.org/pdf/2403.12345v1,
    like:arXiv:2403.12345, like:10.48550/arXiv.2403.12345

It is no query: it names a paper whose likes the reader wants, not words, so the
engine skips it (engine.queries) and no keyword search ever runs on it. Whether the
paper exists is for the Django side to say (digest/seeds.py: the database, else
arXiv's API); this module only reads the line. Every spelling keeps as one line,
"like:<canonical id>", so a seed given twice is one seed.
"""

import re
from collections.abc import Iterable

from digest.matching.query import InterestSyntaxError
from digest.sources.ids import find_arxiv_id, split_arxiv_id

WORD = "like"
# What the digest says a paper is there for, when a seed brought it.
FIELD = "like"

_LINE = re.compile(r"\s*like\s*:\s*(?P<paper>.*?)\s*", re.IGNORECASE | re.DOTALL)
# Hosts written without a scheme ("arxiv.org/abs/…"): read as the https URL they mean.
_BARE_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*arxiv\.org/", re.IGNORECASE)
_EXAMPLE = "like:2403.12345"
# "example.org/…": an address, not an id (old ids read "math.AG/0309136": no such ending).
_HOST_PATH = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/")


def is_like(text: str) -> bool:
    """True when `text` is a like line, well formed or not (it starts with "like:")."""
    return _LINE.fullmatch(text) is not None


def arxiv_id_of(value: str) -> str | None:
    """The canonical arXiv id (no version) a seed names, or None: a bare id, an
    arXiv URL (abs, pdf, html; with or without https://), "arXiv:…" or an arXiv DOI."""
    value = value.strip()
    found = split_arxiv_id(value)
    if found is None:
        if _BARE_HOST.match(value):
            value = f"https://{value}"
        found = find_arxiv_id(value)
    return found[0] if found else None


def like_id(text: str) -> str | None:
    """The canonical arXiv id of a like line; None for any other line.

    Raises InterestSyntaxError saying what is wrong for a like line that names no
    arXiv paper.
    """
    found = _LINE.fullmatch(text)
    if found is None:
        return None
    paper = found.group("paper")
    if not paper:
        raise InterestSyntaxError(
            f"like: takes the arXiv id of a paper you like (“{_EXAMPLE}”), and there is none"
        )
    canonical = arxiv_id_of(paper)
    if canonical is not None:
        return canonical
    shown = paper if len(paper) <= 60 else f"{paper[:57]}…"
    if "://" in paper or _HOST_PATH.match(paper):
        raise InterestSyntaxError(
            f"like: “{shown}” is no arXiv link: write the paper's arXiv id (“{_EXAMPLE}”) "
            "or its arxiv.org/abs/… address"
        )
    if re.fullmatch(r"\d{4}\.\d+(v\d*)?", paper) or re.fullmatch(r"\d{4}\.?\d*", paper):
        raise InterestSyntaxError(
            f"like: “{shown}” is not a whole arXiv id: they read four digits, a dot and "
            f"four or five digits (“{_EXAMPLE}”, “{_EXAMPLE}v2”)"
        )
    raise InterestSyntaxError(
        f"like: “{shown}” is not an arXiv id: write one like “{_EXAMPLE}” or "
        "“like:hep-th/9901001”, or the paper's arXiv address"
    )


def tidy(text: str) -> str:
    """A like line as it is kept: "like:<canonical id>"."""
    canonical = like_id(text)
    if canonical is None:
        raise ValueError(f"not a like line: {text!r}")
    return line_for(canonical)


def line_for(canonical_id: str) -> str:
    """The like line of a paper: "like:2403.12345"."""
    return f"{WORD}:{canonical_id}"


def seed_ids(interests: Iterable[str]) -> list[str]:
    """The canonical ids a subscriber's like lines name, each once, in their order.
    Broken lines count as none (saved before a rule changed: forms refuse new ones)."""
    found: dict[str, None] = {}
    for text in interests:
        try:
            canonical = like_id(text)
        except InterestSyntaxError:
            continue
        if canonical is not None:
            found.setdefault(canonical, None)
    return list(found)
