"""A paper's analysis as bytes, made once and read back by every window the paper is in.

Analysing a paper (evaluate.AnalyzedDocument: tokens, stems, compounds, acronyms,
concepts, definitions, and the aboutness layouts of its fields) costs about a
millisecond; a paper is in seven daily windows and a weekly one, and in the
preview's. Read back from these bytes, the same analysis costs a fifth of that: a
`marshal` of plain tuples, dicts, lists and sets, compressed.

The bytes hold only what the analysis made of the title and abstract; the text
itself, the authors and the categories come from the Document, so `key` (what
the bytes were made from) says which texts and which analyser they belong to:
analyses made by another version of this code or its vocabulary, or of another
text, are never read. Only the default concepts' analyses are stored.
"""

import hashlib
import marshal
import sys
import zlib
from bisect import bisect_left
from functools import cache
from pathlib import Path

from digest.matching import about
from digest.matching.analysis import Field, Token
from digest.matching.concepts import Concepts, default_concepts
from digest.matching.evaluate import AnalyzedDocument, Document

# Bumped when the layout of the bytes changes without a change to the files below.
FORMAT = 1
_HERE = Path(__file__).resolve().parent
# What an analysis is made by: its code and its vocabulary (a test checks that every
# module these import from digest.matching is here).
_ANALYSER = (
    "about.py",
    "analysis.py",
    "concepts.py",
    "concepts.toml",
    "concepts_derived.toml",
    "evaluate.py",
    "forms.py",
    "query.py",
    "stored.py",
)
_LAYOUT = about.Layout.__slots__
_FIELDS = ("title", "abstract")
_token = Token._make


@cache
def fingerprint() -> str:
    """The analyser's version: a digest of its code, its vocabulary, the bytes' format
    and Python's marshal format (which may change between Python versions)."""
    digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:2]} {marshal.version}".encode())
    for name in _ANALYSER:
        path = _HERE / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def key(document: Document) -> str:
    """What the analysis of `document` is made from: this analyser (the key starts with
    its fingerprint) and the paper's title and abstract. Stored bytes are read only
    under the key they were made with."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(document.title.encode())
    digest.update(b"\0")
    digest.update(document.abstract.encode())
    return f"{fingerprint()}-{digest.hexdigest()}"


def make(document: Document) -> tuple[str, bytes]:
    """The key and bytes of `document`'s analysis with the default concepts."""
    return key(document), dumps(AnalyzedDocument(document, default_concepts()))


def dumps(analysis: AnalyzedDocument) -> bytes:
    """The bytes of a paper's analysis of its title and abstract, with their layouts."""
    fields = []
    for name in _FIELDS:
        field = analysis.fields[name]
        tokens = field.tokens
        layout = about.layout(field)
        fields.append(
            (
                # a Token's items, column by column: a tuple each would be one object more
                tuple(zip(*tokens, strict=True)) if tokens else ((), (), (), (), ()),
                field.spans,
                tuple(getattr(layout, slot) for slot in _LAYOUT),
            )
        )
    return zlib.compress(marshal.dumps(tuple(fields)), 1)


class _StoredField(Field):
    """A Field read back. Its tokens are made only when asked: what evaluating most
    clauses reads of them (the text between two positions) it reads from the columns,
    and a Token each, never freed from the cycle collector's walks, is most of what a
    window's index holds."""

    def __init__(self, text: str, columns: tuple[tuple, ...], spans: dict, layout: object) -> None:
        self.text, self.spans, self.layout = text, spans, layout
        self._columns = columns
        self._tokens: list[Token] | None = None

    @property
    def tokens(self) -> list[Token]:  # type: ignore[override]
        if self._tokens is None:
            self._tokens = list(map(_token, zip(*self._columns, strict=True)))
        return self._tokens

    def surface(self, start: int, end: int) -> str:
        _, _, positions, starts, ends = self._columns
        first = bisect_left(positions, start)
        last = bisect_left(positions, end, lo=first)
        if first >= last:
            return ""
        return self.text[starts[first] : ends[last - 1]]


def loads(data: bytes, document: Document) -> AnalyzedDocument:
    """The analysis `dumps` made of `document`'s title and abstract (whose `key` the
    caller found stored with the bytes)."""
    texts = (document.title, document.abstract)
    fields = {}
    for name, text, (columns, spans, layout_values) in zip(
        _FIELDS, texts, marshal.loads(zlib.decompress(data)), strict=True
    ):
        layout = about.Layout.__new__(about.Layout)
        for slot, value in zip(_LAYOUT, layout_values, strict=True):
            setattr(layout, slot, value)
        fields[name] = _StoredField(text, columns, spans, layout)
    return AnalyzedDocument.of_fields(document, fields)


def storable(concepts: Concepts) -> bool:
    """Whether analyses made with `concepts` are the ones stored: the default's only."""
    return concepts is default_concepts()
