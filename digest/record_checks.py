"""Feed records checked against the Paper columns before they are written.

A feed is written in one transaction, so one value the database refuses (an
upvote count of -1 in a PositiveIntegerField, a link longer than its column)
would lose every paper of the feed. Each record is checked first; what cannot
be stored is dropped or left out, with a reason for the Source.

Per field:
- canonical id: the row's key. Empty, longer than its column or holding control
  characters: the item is dropped (a shortened key would merge it with another).
- title: required, a digest shows it: dropped when empty.
- abs_url: the link a digest shows. Not http(s) or longer than its column: the
  item is dropped; a shortened URL leads somewhere else, and a paper nobody
  can open is not worth mailing.
- pdf_url, hf_url: secondary links, checked the same way but only left out:
  the paper is still good without them.
- doi: left out when longer than its column (a shortened DOI names another work).
- version, upvotes, comments: left out (None) outside 0 .. 2**31 - 1, what the
  PositiveIntegerField holds on every database. Not clamped: -1 or 10**12 says the
  feed does not know the number, and a clamped one would be made up. A count
  left out never erases a stored one (ingest keeps what it has for None).
- text and lists: NUL characters removed (PostgreSQL refuses them in text and jsonb).
"""

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from digest.models import Paper
from digest.sources import PaperRecord

# PositiveIntegerField: 0 .. 2**31 - 1 on PostgreSQL, MySQL and SQLite's check.
MAX_COUNT = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# How many reasons a Source keeps: enough to see the pattern, never a whole feed.
MAX_REASONS = 20


def _max_length(name: str) -> int:
    return Paper._meta.get_field(name).max_length


@dataclass
class Checked:
    """The records fit to write, and what was wrong with the others."""

    records: list[PaperRecord] = field(default_factory=list)
    dropped: int = 0
    problems: list[str] = field(default_factory=list)


class _Dropped(Exception):
    pass


def _no_nul(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_no_nul(item) for item in value]
    return value


def _url_problem(value: str, name: str) -> str:
    if not value:
        return ""
    if not value.startswith(("http://", "https://")):
        return f"{name} is not an http(s) URL"
    limit = _max_length(name)
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    return ""


def _count_problem(value: int | None, name: str) -> str:
    if value is None or 0 <= value <= MAX_COUNT:
        return ""
    return f"{name} {value} is outside 0..{MAX_COUNT}"


def _check(record: PaperRecord) -> tuple[PaperRecord, list[str]]:
    """The record as it may be written and what was left out of it; _Dropped if it cannot."""
    key = record.canonical_id
    if not key or _CONTROL.search(key):
        raise _Dropped("it has no usable id")
    if len(key) > _max_length("canonical_id"):
        raise _Dropped(f"its id is longer than {_max_length('canonical_id')} characters")
    changes = {
        name: _no_nul(getattr(record, name))
        for name in ("title", "abstract", "authors", "categories", "journal_ref", "doi")
    }
    if not str(changes["title"]).strip():
        raise _Dropped("it has no title")
    if problem := _url_problem(record.abs_url, "abs_url"):
        raise _Dropped(problem)
    left_out = []
    for name in ("pdf_url", "hf_url"):
        if problem := _url_problem(getattr(record, name), name):
            changes[name] = ""
            left_out.append(problem)
    if len(changes["doi"]) > _max_length("doi"):
        changes["doi"] = ""
        left_out.append(f"doi is longer than {_max_length('doi')} characters")
    for name in ("version", "upvotes", "comments"):
        if problem := _count_problem(getattr(record, name), name):
            changes[name] = None
            left_out.append(problem)
    return dataclasses.replace(record, **changes), left_out


def _shown(canonical_id: str) -> str:
    # Enough of the id to find the item in the feed; a long one would crowd out the reason.
    shown = _CONTROL.sub("?", canonical_id) or "(no id)"
    return shown if len(shown) <= 80 else f"{shown[:77]}..."


def check_records(records: Iterable[PaperRecord]) -> Checked:
    """The records that can be written (fixed where a field could be left out), the
    number dropped, and one reason per problem (the first MAX_REASONS)."""
    checked = Checked()
    for record in records:
        try:
            fit, left_out = _check(record)
        except _Dropped as reason:
            checked.dropped += 1
            checked.problems.append(f"{_shown(record.canonical_id)}: dropped, {reason}")
            continue
        checked.records.append(fit)
        shown = _shown(fit.canonical_id)
        checked.problems += [f"{shown}: {problem}, left out" for problem in left_out]
    if len(checked.problems) > MAX_REASONS:
        more = len(checked.problems) - MAX_REASONS
        checked.problems = [*checked.problems[:MAX_REASONS], f"and {more} more"]
    return checked
