"""What every feed parser produces: plain records, no Django."""

from dataclasses import dataclass, field
from datetime import datetime


class FeedError(Exception):
    """A feed could not be fetched or read; the message says why, for people."""


@dataclass(frozen=True)
class PaperRecord:
    """One paper as a feed announced it.

    `canonical_id` identifies the paper across feeds and versions: for arXiv
    papers the arXiv id without its version ("2604.21952").
    """

    canonical_id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    abs_url: str = ""
    pdf_url: str = ""
    published: datetime | None = None
    version: int | None = None
    announce_type: str = ""
    upvotes: int | None = None
