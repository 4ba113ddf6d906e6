"""What every feed parser produces: plain records, no Django."""

from dataclasses import dataclass, field
from datetime import datetime

# Announce types of arXiv that bring a new version (or, absonly, a new abstract)
# of a paper announced before: updates, not news.
REPLACEMENT_TYPES = frozenset({"replace", "replace-cross", "absonly"})


class FeedError(Exception):
    """A feed could not be fetched or read; the message says why, for people.

    `transient` is True for failures worth retrying soon (a timeout, a 5xx, a
    refused connection); False when the same request would fail the same way.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class ServiceError(FeedError):
    """The service answered in its own format that something is wrong: arXiv's
    "Feed error for query" feed, an API error entry, Hugging Face's {"error": …}.

    Its message includes the service's reason; `headline` says only who
    answered with an error, for where the reason must not be shown (digest.ingest
    quotes arXiv's reasons only).
    """

    def __init__(self, message: str, *, headline: str = "", transient: bool = False) -> None:
        super().__init__(message, transient=transient)
        self.headline = headline or "the service answered with an error"


@dataclass(frozen=True)
class PaperRecord:
    """One paper as a feed announced it.

    `canonical_id` identifies the paper across feeds and versions: for arXiv
    papers the arXiv id without its version ("2604.21952"); otherwise
    "doi:<doi>" or "url:<host/path>" (see `ids.canonical_id`). Fields a feed
    does not carry stay empty (or None) and never erase what another feed said.
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
    # arXiv's announce type: new, cross, replace, replace-cross, absonly ("" elsewhere).
    announce_type: str = ""
    doi: str = ""
    journal_ref: str = ""
    # Hugging Face daily papers: counts that change every fetch, and the paper's page.
    upvotes: int | None = None
    comments: int | None = None
    hf_url: str = ""

    @property
    def is_replacement(self) -> bool:
        """A new version of an older paper: it updates the paper, it is not news."""
        return self.announce_type in REPLACEMENT_TYPES


@dataclass(frozen=True)
class Page:
    """One page of a paged answer (the arXiv API): its records and where it stands."""

    records: list[PaperRecord]
    total_results: int
    start_index: int
    items_per_page: int
