"""Feed parsers, one module per feed kind, each `parse(data: bytes) -> list[PaperRecord]`.

Pure Python: nothing here imports Django, so parsers can be tested and
benchmarked alone. `digest.ingest` turns records into rows.
"""

from collections.abc import Callable

from digest.sources import arxiv_rss
from digest.sources.records import FeedError, PaperRecord

Parser = Callable[[bytes], list[PaperRecord]]

PARSERS: dict[str, Parser] = {
    "arxiv_rss": arxiv_rss.parse,
}


def parse(kind: str, data: bytes) -> list[PaperRecord]:
    """Parse `data` as a feed of `kind`; raises FeedError when it cannot."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise FeedError(f"unknown feed kind {kind!r} (known: {known})") from None
    return parser(data)


__all__ = ["PARSERS", "FeedError", "PaperRecord", "parse"]
