"""The arXiv papers of a reference library: a BibTeX file or a Zotero CSV export.

Pure Python, no Django: bytes in, the arXiv ids (canonical, each once, in the file's
order) and the entries that named none out; `LibraryError` says, for people, why a
file cannot be read. The manage page adds the ids as like: lines (your_data.import_seeds).

Where an entry names its arXiv paper:
- BibTeX: `eprint` (with `archivePrefix` / `eprinttype` arXiv, or none), an arXiv URL
  in `url`, an arXiv DOI in `doi` (10.48550/arXiv.…), "arXiv:…" in `journal`, `note`,
  `howpublished`, `number`, `eprint` (Google Scholar's "arXiv preprint arXiv:…",
  Zotero's "arXiv:2403.12345 [cs]").
- Zotero CSV (File > Export, CSV): the columns "Url", "DOI", "Extra"
  ("arXiv: 2403.12345"), "Archive Location", "Number" (a preprint's archive id),
  "Publication Title", "Link Attachments".
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from digest.matching.like import arxiv_id_of
from digest.sources.ids import ID_PATTERN

# Entries read at most: a library far bigger is refused rather than read for minutes.
MAX_ENTRIES = 20_000

# "arXiv:2403.12345", "arXiv: 2403.12345v2 [cs]", "arXiv preprint arXiv:…", "arxiv.org/abs/…"
# (an arxiv.org link only as a link of its own: not "?ref=arxiv.org/abs/…" in another's)
_IN_TEXT = re.compile(
    r"(?:(?<![\w.-])arXiv\s*:?\s*"
    r"|(?:https?://(?:www\.|export\.)?|(?<![\w./?=&%-]))arxiv\.org/(?:abs|pdf|html)/"
    rf"|(?<![\w.])10\.48550/arXiv\.){ID_PATTERN}",
    re.IGNORECASE,
)
_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_FIELD_NAME = re.compile(r"\s*([A-Za-z][\w:.+-]*)\s*=\s*")
_BRACES = re.compile(r"[{}\\]")
_PARENTHESES = re.compile(r"[()\\]")
_BARE_VALUE = re.compile(r"[^,#}\s]+")  # a number or a macro: 2020, aug
_SKIPPED_TYPES = {"comment", "string", "preamble"}
_TEXT_FIELDS = ("journal", "note", "howpublished", "number", "eprint", "journaltitle", "annote")
_CSV_LINKS = ("Url", "DOI")
_CSV_TEXTS = (
    "Extra",
    "Archive Location",
    "Number",
    "Publication Title",
    "Link Attachments",
)


class LibraryError(Exception):
    """The file is no BibTeX or Zotero CSV that can be read; the message says why."""


@dataclass
class Library:
    """What a library file holds for seeds."""

    kind: str  # "BibTeX" or "Zotero CSV"
    entries: int = 0
    ids: list[str] = field(default_factory=list)  # canonical arXiv ids, each once, in order
    without: list[str] = field(default_factory=list)  # entries naming no arXiv paper
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, canonical: str | None, name: str) -> None:
        self.entries += 1
        if canonical is None:
            self.without.append(name)
        elif canonical not in self._seen:
            self._seen.add(canonical)
            self.ids.append(canonical)


def _id_in_text(text: str) -> str | None:
    found = _IN_TEXT.search(text)
    return found.group("id") if found else None


def _first_id(links: Iterable[str], texts: Iterable[str]) -> str | None:
    """The arXiv id of the first of `links` that is an arXiv link or DOI (its host
    checked), else the first "arXiv:…" (or arXiv link) written in `texts`."""
    for value in links:
        if canonical := arxiv_id_of(value):
            return canonical
    for value in texts:
        if canonical := _id_in_text(value):
            return canonical
    return None


# BibTeX


def _braced(text: str, start: int, close: str) -> tuple[str, int]:
    """The text from `start` (just after an opening brace or parenthesis) to its
    balanced `close`, and the place after it; LibraryError when it never closes."""
    opening = "{" if close == "}" else "("
    special = _BRACES if close == "}" else _PARENTHESES
    depth, i = 1, start
    # From one brace (or backslash) to the next: a long abstract is one regex step.
    while found := special.search(text, i):
        char, i = found.group(0), found.end()
        if char == "\\":  # \{ and \} are letters, not braces
            i += 1
        elif char == opening:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return text[start : i - 1], i
    raise LibraryError("A BibTeX entry is never closed: a brace is missing.")


def _value(body: str, i: int) -> tuple[str, int]:
    """One field's value from `i`: {…}, "…", a number or a macro, joined by #."""
    parts = []
    while True:
        while i < len(body) and body[i].isspace():
            i += 1
        if i >= len(body):
            break
        char = body[i]
        if char == "{":
            part, i = _braced(body, i + 1, "}")
        elif char == '"':
            end = i + 1
            depth = 0
            while end < len(body) and not (body[end] == '"' and depth == 0):
                depth += {"{": 1, "}": -1}.get(body[end], 0)
                end += 1
            part, i = body[i + 1 : end], end + 1
        else:
            found = _BARE_VALUE.match(body, i)
            part = found.group(0) if found else ""
            i += len(part) or 1
        parts.append(part)
        while i < len(body) and body[i].isspace():
            i += 1
        if i < len(body) and body[i] == "#":
            i += 1
            continue
        break
    return "".join(parts), i


def _fields(body: str) -> tuple[str, dict[str, str]]:
    """An entry's key and fields (names in lower case)."""
    key, _, rest = body.partition(",")
    fields: dict[str, str] = {}
    i = 0
    while i < len(rest):
        found = _FIELD_NAME.match(rest, i)
        if found is None:
            # Not a field: skip to the next comma (a stray word, a trailing comma).
            comma = rest.find(",", i)
            if comma < 0:
                break
            i = comma + 1
            continue
        value, i = _value(rest, found.end())
        fields[found.group(1).lower()] = " ".join(value.split())
        comma = rest.find(",", i)
        i = len(rest) if comma < 0 else comma + 1
    return key.strip(), fields


def _bibtex_entries(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    i = 0
    while True:
        found = _ENTRY_START.search(text, i)
        if found is None:
            return
        close = "}" if found.group(2) == "{" else ")"
        body, i = _braced(text, found.end(), close)
        if found.group(1).lower() not in _SKIPPED_TYPES:
            yield _fields(body)


def _bibtex_id(fields: dict[str, str]) -> str | None:
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").lower()
    eprint = fields.get("eprint", "")
    if prefix == "arxiv" and eprint:
        found = arxiv_id_of(eprint)
        if found:
            return found
    return _first_id(
        [fields.get("url", ""), fields.get("doi", "")],
        [fields.get(name, "") for name in _TEXT_FIELDS],
    )


def _entry_name(key: str, fields: dict[str, str]) -> str:
    title = re.sub(r"[{}]", "", fields.get("title", "")).strip()
    return title or key or "an entry without a title"


def read_bibtex(text: str) -> Library:
    library = Library("BibTeX")
    for key, fields in _bibtex_entries(text):
        if library.entries >= MAX_ENTRIES:
            raise LibraryError(f"The file has more than {MAX_ENTRIES:,} entries.")
        library.add(_bibtex_id(fields), _entry_name(key, fields))
    if not library.entries:
        raise LibraryError("The file holds no BibTeX entry (@article{…}, @misc{…}).")
    return library


# Zotero CSV


def _is_zotero_header(row: list[str]) -> bool:
    names = {name.strip() for name in row}
    return {"Item Type", "Title"} <= names and bool(names & {"Url", "DOI", "Extra"})


def read_zotero_csv(text: str) -> Library:
    try:
        # strict: a quote never closed is an error, not the rest of the file in one cell
        rows = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(rows, [])
        if not _is_zotero_header(header):
            raise LibraryError(
                "This CSV file is not a Zotero export: its first row names no "
                "“Item Type”, “Title” and “Url” columns."
            )
        columns = {name.strip(): n for n, name in enumerate(header)}
        links = [columns[name] for name in _CSV_LINKS if name in columns]
        texts = [columns[name] for name in _CSV_TEXTS if name in columns]
        title = columns["Title"]
        library = Library("Zotero CSV")
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if library.entries >= MAX_ENTRIES:
                raise LibraryError(f"The file has more than {MAX_ENTRIES:,} entries.")
            canonical = _first_id(
                (row[n] for n in links if n < len(row)), (row[n] for n in texts if n < len(row))
            )
            name = row[title].strip() if title < len(row) else ""
            library.add(canonical, name or f"row {number}")
    except csv.Error as error:
        raise LibraryError(f"The CSV file cannot be read ({error}).") from None
    return library


def _looks_like_csv(text: str) -> bool:
    first_line = text.partition("\n")[0]
    try:
        return _is_zotero_header(next(csv.reader([first_line]), []))
    except csv.Error:  # a first line no CSV reader takes is no Zotero header
        return False


def read_library(data: bytes) -> Library:
    """The arXiv papers of a BibTeX file or a Zotero CSV export (UTF-8; a BOM allowed)."""
    if b"\x00" in data[:4096]:
        raise LibraryError("The file is not text: choose a .bib file or a Zotero CSV export.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LibraryError("The file is not UTF-8 text.") from None
    if _looks_like_csv(text.lstrip()):
        return read_zotero_csv(text.lstrip())
    if _ENTRY_START.search(text):
        return read_bibtex(text)
    raise LibraryError(
        "The file is neither BibTeX (@article{…}) nor a Zotero CSV export "
        "(its first row: “Key”, “Item Type”, …)."
    )
