"""The items of arXiv's own RSS 2.0 and Atom feeds, read by expat alone: fast and strict.

feedparser reads any feed, and pays for it: most of a large arXiv feed's parse
time is its bookkeeping per element. rss.arxiv.org writes one shape. This
module reads exactly that shape and gives each item as the entry feedparser
would give (its keys and values as arxiv_rss reads them: id, link, title,
summary, authors, tags, published and published_parsed, arxiv_announce_type,
arxiv_doi, arxiv_journal_reference), or None for anything else: a DOCTYPE, an
element or attribute arXiv does not write, a repeated field, markup inside a
field, a namespace declared anywhere but the root, xml:base, another encoding
than UTF-8, bytes that are not well-formed. feedparser then reads the bytes
as before, so the result is feedparser's either way (tests compare both on
every recorded arXiv feed and on generated ones).

Safety: expat gets bytes; a DOCTYPE stops the parse when it starts, before
any declaration in it is read, so no entity is declared, expanded or fetched.

The channel (its title, version, description) is still read by feedparser,
from the same bytes with the items cut out (`Items.frame`), so what a feed is
and its error answers are decided as for any other feed.
"""

import contextlib
import functools
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from feedparser.datetimes import _parse_date

ARXIV = "http://arxiv.org/schemas/atom"
DC = "http://purl.org/dc/elements/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
_SEPARATOR = "\x1f"  # between namespace, local name and prefix in expat's names

# What feedparser does to every text value (feedparser.mixin pop): "utf-8 read as
# latin-1" repaired, then the C1 controls mapped to the windows-1252 characters.
CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}

# Fields of an item: expat's name -> (how it is read, feedparser's key).
_TEXT, _LINK, _GUID, _DATE, _AUTHOR, _CATEGORY, _IGNORED = range(7)
_ATOM_LINK, _ATOM_CATEGORY = 7, 8


def _name(namespace: str, local: str, prefix: str = "") -> str:
    return _SEPARATOR.join(part for part in (namespace, local, prefix) if part)


_COMMON = {
    _name(ARXIV, "announce_type", "arxiv"): (_TEXT, "arxiv_announce_type"),
    _name(ARXIV, "DOI", "arxiv"): (_TEXT, "arxiv_doi"),
    _name(ARXIV, "journal_reference", "arxiv"): (_TEXT, "arxiv_journal_reference"),
    _name(DC, "creator", "dc"): (_AUTHOR, "authors"),
    _name(DC, "rights", "dc"): (_IGNORED, "rights"),
}
_RSS_FIELDS = {
    "title": (_TEXT, "title"),
    "link": (_LINK, "link"),
    "description": (_TEXT, "summary"),
    "guid": (_GUID, "id"),
    "category": (_CATEGORY, "tags"),
    "pubDate": (_DATE, "published"),
    **_COMMON,
}
_ATOM_FIELDS = {
    _name(ATOM, "id"): (_GUID, "id"),
    _name(ATOM, "title"): (_TEXT, "title"),
    _name(ATOM, "summary"): (_TEXT, "summary"),
    _name(ATOM, "link"): (_ATOM_LINK, "link"),
    _name(ATOM, "category"): (_ATOM_CATEGORY, "tags"),
    _name(ATOM, "published"): (_DATE, "published"),
    _name(ATOM, "updated"): (_IGNORED, "updated"),
    **_COMMON,
}
# Attributes a field may have, as arXiv writes them.
_ATTRIBUTES = {
    _GUID: frozenset({"isPermaLink"}),
    _ATOM_LINK: frozenset({"href", "rel", "type"}),
    _ATOM_CATEGORY: frozenset({"term"}),
}
_TEXT_TYPES = frozenset({"text", "html"})  # Atom's title and summary; "xhtml" is markup
_ALWAYS_UNIQUE = frozenset({_TEXT, _LINK, _GUID, _DATE, _IGNORED})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html"}
_CONTENT_TYPES["xhtml"] = "application/xhtml+xml"


@dataclass(frozen=True)
class Items:
    """The items of a feed as feedparser entries, and the feed without them."""

    entries: list[dict[str, Any]]
    frame: bytes


class _Unexpected(Exception):
    """Not the shape arXiv writes: feedparser reads this feed."""


def _unexpected(*args: object) -> None:
    raise _Unexpected


@functools.lru_cache(maxsize=256)
def _published_parsed(value: str) -> Any:
    # feedparser's own date parser; a feed's items share a handful of dates.
    return _parse_date(value)


def _text(pieces: list[str]) -> str:
    """A text value as feedparser's pop() leaves it."""
    output = "".join(pieces).strip()
    if output.isascii():
        return output
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(CP1252)


def _fix_uri(value: str) -> str:
    """feedparser's _urljoin with no base URI (a feed read from bytes has none): the
    slashes after "scheme://" folded, nothing else."""
    scheme_end = value.find("://")
    if scheme_end <= 0 or not value.startswith("/", scheme_end + 3):
        return value
    scheme = value[:scheme_end]
    if not (scheme[0].isascii() and scheme[0].isalpha()) or not all(
        c.isascii() and (c.isalnum() or c in "+,-.") for c in scheme
    ):
        return value
    rest = value[scheme_end + 3 :].lstrip("/")
    return f"{value[: scheme_end + 3]}{rest}"


def _has_encoding_other_than_utf8(data: bytes) -> bool:
    if b"\x00" in data[:4] or data.startswith((b"\xfe\xff", b"\xff\xfe", b"\x4c\x6f\xa7\x94")):
        return True  # UTF-16/32, EBCDIC
    head = data.removeprefix(b"\xef\xbb\xbf")
    if not head.startswith(b"<?xml"):
        return False
    declaration = head[: head.find(b"?>") + 1].lower()
    at = declaration.find(b"encoding")
    if at < 0:
        return False
    value = declaration[at + 8 :].lstrip(b" \t\r\n=").lstrip(b" \t\r\n")
    return not value[1:].startswith(b"utf-8" + value[:1])


class _Reader:
    """One pass of expat over the document; raises _Unexpected at the first surprise."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.entries: list[dict[str, Any]] = []
        self.fields: dict[str, tuple[int, str]] = {}
        self.item_name = ""
        self.item_depth = 0
        self.depth = 0
        self.first_start = -1
        self.last_end = -1
        # The item being read, and its field.
        self.entry: dict[str, Any] | None = None
        self.seen: set[str] = set()
        self.field: tuple[int, str] | None = None
        self.attributes: dict[str, str] = {}
        self.pieces: list[str] = []
        self.guid_is_link = False
        self.started = False

    def read(self) -> Items:
        parser = expat.ParserCreate(namespace_separator=_SEPARATOR)
        parser.namespace_prefixes = True
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _unexpected
        parser.EntityDeclHandler = _unexpected
        parser.ExternalEntityRefHandler = _unexpected
        parser.StartNamespaceDeclHandler = self.namespace
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        self.parser = parser
        parser.Parse(self.data, True)
        if not self.entries:
            return Items([], self.data)
        return Items(self.entries, self.data[: self.first_start] + self.data[self.last_end :])

    def namespace(self, prefix: str | None, uri: str) -> None:
        if self.started:  # declared below the root: feedparser keys its names by it
            raise _Unexpected

    def start(self, name: str, attributes: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        for attribute in attributes:
            # xml:base (or base) would make feedparser resolve links against it.
            if attribute == "base" or attribute.endswith(f"{_SEPARATOR}base{_SEPARATOR}xml"):
                raise _Unexpected
        if self.entry is not None:
            self.start_field(name, attributes, depth)
        elif depth == 1:
            self.started = True
            self.start_root(name, attributes)
        elif depth == self.item_depth and name == self.item_name:
            if attributes:
                raise _Unexpected
            if self.first_start < 0:
                self.first_start = self.parser.CurrentByteIndex
            self.entry, self.seen, self.guid_is_link = {}, set(), False
        elif self.first_start >= 0 or (self.item_depth == 3 and depth == 2 and name != "channel"):
            raise _Unexpected  # an element between or after the items

    def start_root(self, name: str, attributes: dict[str, str]) -> None:
        if name == "rss":
            if set(attributes) - {"version"} or not attributes.get("version", "").startswith("2."):
                raise _Unexpected
            self.fields, self.item_name, self.item_depth = _RSS_FIELDS, "item", 3
        elif name == _name(ATOM, "feed"):
            lang = _name("http://www.w3.org/XML/1998/namespace", "lang", "xml")
            if set(attributes) - {lang}:
                raise _Unexpected
            self.fields, self.item_name, self.item_depth = _ATOM_FIELDS, _name(ATOM, "entry"), 2
        else:
            raise _Unexpected

    def start_field(self, name: str, attributes: dict[str, str], depth: int) -> None:
        field = self.fields.get(name)
        if field is None or depth != self.item_depth + 1:
            raise _Unexpected  # an element arXiv does not write, or markup in a field
        how, key = field
        allowed = _ATTRIBUTES.get(how)
        if attributes:
            if allowed is None:
                if not (
                    self.item_depth == 2
                    and key in ("title", "summary")
                    and set(attributes) == {"type"}
                    and attributes["type"].lower() in _TEXT_TYPES
                ):
                    raise _Unexpected
            elif not allowed.issuperset(attributes):
                raise _Unexpected
        if how in _ALWAYS_UNIQUE:
            if key in self.seen:
                raise _Unexpected  # feedparser keeps the first title, the last summary …
            self.seen.add(key)
        self.field, self.attributes, self.pieces = field, attributes, []
        if how == _GUID:
            self.guid_is_link = attributes.get("isPermaLink", "true") == "true"
        elif how == _AUTHOR:
            self.entry.setdefault("authors", [])  # type: ignore[union-attr]
        elif how == _CATEGORY:
            self.entry.setdefault("tags", [])  # type: ignore[union-attr]
        elif how == _ATOM_CATEGORY:
            self.add_tag(attributes.get("term"))

    def characters(self, text: str) -> None:
        if self.field is not None:
            self.pieces.append(text)
        elif self.entry is not None and not text.isspace():
            raise _Unexpected  # text beside the fields of an item

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.field is not None:
            self.end_field()
        elif self.entry is not None:
            self.entries.append(self.entry)
            self.entry = None
            at = self.parser.CurrentByteIndex
            self.last_end = self.data.index(b">", at) + 1

    def end_field(self) -> None:
        how, key = self.field  # type: ignore[misc]
        entry = self.entry
        assert entry is not None
        self.field = None
        if how == _TEXT:
            entry[key] = _text(self.pieces)
        elif how == _DATE:
            value = entry[key] = _text(self.pieces)
            entry[f"{key}_parsed"] = _published_parsed(value)
        elif how == _AUTHOR:
            name = _text(self.pieces)
            if "@" in name:
                raise _Unexpected  # feedparser splits an email address out of it
            entry["author"] = name
            entry["authors"].append({"name": name} if name else {})
        elif how == _CATEGORY:
            self.add_tag(_text(self.pieces))
        elif how == _LINK:
            link = _fix_uri(_text(self.pieces))
            if "&" in link:
                raise _Unexpected  # feedparser rewrites "&amp;" and "&x;" in links
            entry["link"] = link
        elif how == _GUID:
            value = _text(self.pieces)
            if self.guid_is_link:
                value = _fix_uri(value)
                entry.setdefault("link", value)  # a guid that is a permalink is the link
            entry["id"] = value
        elif how == _ATOM_LINK:
            if "".join(self.pieces).strip() or "href" not in self.attributes:
                raise _Unexpected
            rel = self.attributes.get("rel", "alternate").lower()
            default = "application/atom+xml" if rel == "self" else "text/html"
            kind = self.attributes.get("type", default).lower()
            if rel == "alternate" and _CONTENT_TYPES.get(kind, kind) in _HTML_TYPES:
                entry["link"] = _fix_uri(self.attributes["href"])
        elif how == _ATOM_CATEGORY and "".join(self.pieces).strip():
            raise _Unexpected
        # _IGNORED: dc:rights, Atom's updated; nothing arxiv_rss reads.

    def add_tag(self, term: str | None) -> None:
        if not term:
            return
        tags = self.entry.setdefault("tags", [])  # type: ignore[union-attr]
        tag = {"term": term, "scheme": None, "label": None}
        if tag not in tags:  # feedparser lists a repeated category once
            tags.append(tag)


def read_items(data: bytes) -> Items | None:
    """The items of an arXiv RSS 2.0 or Atom feed as feedparser's entries, and the feed
    without them; None when `data` is anything but what rss.arxiv.org writes."""
    if _has_encoding_other_than_utf8(data):
        return None
    try:
        return _Reader(data).read()
    except Exception:  # _Unexpected, expat.ExpatError, or a surprise of ours: feedparser reads it
        return None
