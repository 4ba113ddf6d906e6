"""What a feed says about its own timing: when it was built, and when not to expect news.

RSS 2.0 has `lastBuildDate` (else `pubDate`), `ttl` (minutes a copy may be kept),
`skipDays` and `skipHours` (when aggregators need not read it, in GMT); Atom has
the feed's `updated`, RSS 1.0 the channel's `dc:date`. feedparser keeps only the
last `<day>` of `skipDays` (arXiv lists two), so these are read here, by expat,
from the channel level only: an item's dates are the item's.

Pure Python. Safety as in arxiv_xml: a DOCTYPE stops the parse before any
declaration in it is read. A feed that cannot be read says nothing (FeedTiming()):
whether it is a feed at all is the parser's call, not this module's.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.parsers import expat

RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/elements/1.1/"

_DAYS = {
    name: number
    for number, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
# Paths from the root (namespace, local name) -> what the text there is.
_RSS = ("", "rss"), ("", "channel")
_PATHS = {
    (*_RSS, ("", "lastBuildDate")): "built",
    (*_RSS, ("", "pubDate")): "published",
    (*_RSS, ("", "ttl")): "ttl",
    (*_RSS, ("", "skipDays"), ("", "day")): "day",
    (*_RSS, ("", "skipHours"), ("", "hour")): "hour",
    ((ATOM, "feed"), (ATOM, "updated")): "built",
    ((RDF, "RDF"), (RSS1, "channel"), (DC, "date")): "built",
}
_DEEPEST = max(len(path) for path in _PATHS)


@dataclass(frozen=True)
class FeedTiming:
    built_at: datetime | None = None
    ttl_minutes: int | None = None
    skip_days: frozenset[int] = field(default_factory=frozenset)  # Monday is 0
    skip_hours: frozenset[int] = field(default_factory=frozenset)  # 0-23, GMT

    def as_hints(self) -> dict[str, object]:
        """The schedule hints as JSON values (what a Source keeps between fetches)."""
        hints: dict[str, object] = {}
        if self.ttl_minutes is not None:
            hints["ttl"] = self.ttl_minutes
        if self.skip_days:
            hints["skip_days"] = sorted(self.skip_days)
        if self.skip_hours:
            hints["skip_hours"] = sorted(self.skip_hours)
        return hints


class _Stop(Exception):
    pass


def _date(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text)  # RFC 822, as RSS writes dates
    except (TypeError, ValueError, IndexError):
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))  # RFC 3339 (Atom)
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def read_timing(data: bytes) -> FeedTiming:
    """The channel-level timing of an RSS or Atom feed; FeedTiming() when there is none."""
    head = data[:1024].lstrip()
    if not head.startswith(b"<"):
        return FeedTiming()  # JSON (Hugging Face) or anything else
    found: dict[str, list[str]] = {}
    stack: list[tuple[str, str]] = []
    text: list[str] = []

    def start(name: str, attributes: dict) -> None:
        namespace, _, local = name.rpartition("\x1f")
        stack.append((namespace, local))
        text.clear()

    def end(name: str) -> None:
        if len(stack) <= _DEEPEST and (what := _PATHS.get(tuple(stack))):
            found.setdefault(what, []).append("".join(text))
        stack.pop()
        text.clear()

    def characters(piece: str) -> None:
        if len(stack) <= _DEEPEST:
            text.append(piece)

    def refuse(*args: object) -> None:
        raise _Stop

    parser = expat.ParserCreate(namespace_separator="\x1f")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except (_Stop, expat.ExpatError, ValueError):
        return FeedTiming()
    built = next(
        (d for d in map(_date, found.get("built", []) + found.get("published", [])) if d), None
    )
    ttl = next((n for n in (_number(t, 0, 10**6) for t in found.get("ttl", [])) if n), None)
    days = {_DAYS.get(day.strip().lower()) for day in found.get("day", [])}
    hours = {_number(hour, 0, 24) for hour in found.get("hour", [])}
    return FeedTiming(
        built_at=built,
        ttl_minutes=ttl,
        skip_days=frozenset(day for day in days if day is not None),
        # RSS's hours run 0-23; some feeds write 24 for midnight.
        skip_hours=frozenset(hour % 24 for hour in hours if hour is not None),
    )
