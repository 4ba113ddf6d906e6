"""The manage page's "papers like these" import: a BibTeX file or a Zotero CSV export
becomes like: lines in one step.

The file is read by subscriptions/imports.py (pure); its arXiv ids not among the
subscriber's seeds yet are found in the database or asked of arXiv in one request
(digest.seeds.resolve), then added after the subscriber's interests with one
update_preferences. All or nothing: a file that cannot be read, too many papers, or
arXiv out of reach change nothing. Ids arXiv has no paper for are left out and named,
as are the entries without an arXiv id.
"""

from dataclasses import dataclass, field, replace

from digest import seeds
from digest.matching import like
from subscriptions import imports, services
from subscriptions.forms import MAX_SEEDS, PreferencesForm
from subscriptions.models import Subscriber

# A library of a few thousand entries with abstracts is a few MB; larger is refused unread.
MAX_LIBRARY_BYTES = 5 * 2**20
# Entries without an arXiv id named on the page (the count says the rest).
NAMED_AT_MOST = 10


class LibraryRefused(Exception):
    """The library cannot be imported; `messages` say why. Nothing changed."""

    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


@dataclass(frozen=True)
class SeedsImported:
    kind: str  # "BibTeX" or "Zotero CSV"
    entries: int
    added: list[str]  # the like: lines added, in the file's order
    already: int  # papers of the file among the subscriber's seeds already
    without: list[str]  # entries with no arXiv id (titles, or keys)
    missing: list[str] = field(default_factory=list)  # ids arXiv has no paper for

    @property
    def without_named(self) -> list[str]:
        return self.without[:NAMED_AT_MOST]


def check_size(size: int) -> None:
    if size > MAX_LIBRARY_BYTES:
        raise LibraryRefused(f"The file is larger than {MAX_LIBRARY_BYTES // 2**20} MB.")


def import_library(subscriber: Subscriber, data: bytes) -> SeedsImported:
    """Add the arXiv papers of a BibTeX or Zotero CSV file to `subscriber`'s like: lines
    (LibraryRefused, and nothing changed, when the file or arXiv says no)."""
    check_size(len(data))
    try:
        library = imports.read_library(data)
    except imports.LibraryError as error:
        raise LibraryRefused(str(error)) from None
    if not library.ids:
        raise LibraryRefused(
            f"No entry of this {library.kind} file ({library.entries}) names an arXiv paper "
            "(an eprint, an arxiv.org link or an arXiv DOI)."
        )
    current = services.preferences_of(subscriber)
    known = set(like.seed_ids(current.interests))
    new = [canonical for canonical in library.ids if canonical not in known]
    if len(known) + len(new) > MAX_SEEDS:
        raise LibraryRefused(
            f"This file has {len(new)} new arXiv papers and you follow {len(known)}: at most "
            f"{MAX_SEEDS} like: lines, please (export one collection instead of the library)."
        )
    try:
        resolved = seeds.resolve(new)
    except seeds.SeedError as error:
        raise LibraryRefused(*error.messages) from None
    added = [like.line_for(canonical) for canonical in new if canonical in resolved.papers]
    interests = list(current.interests) + added
    limit = PreferencesForm.base_fields["interests"].max_length
    if len("\n".join(interests)) > limit:
        # The manage form would refuse them at the next save.
        raise LibraryRefused(
            f"With these papers your interests would be longer than {limit:,} characters; "
            "remove some lines first, or import a smaller collection."
        )
    if added:
        services.update_preferences(subscriber, replace(current, interests=interests))
    return SeedsImported(
        kind=library.kind,
        entries=library.entries,
        added=added,
        already=len(library.ids) - len(new),
        without=library.without,
        missing=resolved.missing,
    )
