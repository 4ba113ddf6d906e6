"""Seeds: the papers a reader's `like:` lines name (digest/matching/like.py).

A seed's text (title, abstract, authors, categories) is the Paper row of its canonical
id. A paper Paperboy has never stored is asked of arXiv's API (one id_list request
for up to backfill.IDS_PER_REQUEST of them, through the backfill's client) and stored
as a Paper, so it is known next time and every worker finds it in the database:
`seed_papers` (what the per-reader model learns from) never reaches the network.

Seeds are checked when interests are saved (the signup and manage forms, the admin,
an import): an id arXiv does not have, or arXiv out of reach, refuses the save with
a message saying which. The live preview checks only the line's form, and says what
it knows of the paper (`titles`).
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from digest import ingest
from digest.matching import like
from digest.models import Paper
from digest.sources import backfill
from digest.sources.records import FeedError, PaperRecord
from subscriptions import ratelimit
from subscriptions.models import Interest, Subscriber

logger = logging.getLogger(__name__)

UNREACHABLE = "arXiv could not be reached; try again later."
BUSY = "Too many papers are being looked up on arXiv right now; try again in a minute."


class SeedError(Exception):
    """A seed cannot be used; `messages` say why, for people."""

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


def missing_message(canonical_id: str) -> str:
    return f"arXiv has no paper {canonical_id}."


@dataclass
class Resolved:
    """What became of the seeds asked for: their papers, and the ids arXiv lacks."""

    papers: dict[str, Paper] = field(default_factory=dict)  # canonical id -> Paper
    missing: list[str] = field(default_factory=list)  # in the order asked
    fetched: int = 0  # papers asked of arXiv and stored


def _fetch_bytes(url: str) -> bytes:
    # A person waits for this answer (a form being saved): a shorter wait than a feed's.
    return ingest.fetch_bytes(url, timeout=settings.SEED_LOOKUP_TIMEOUT_SECONDS)


def _from_arxiv(ids: list[str]) -> list[PaperRecord]:
    # arXiv asks for one request every 3 seconds; signups are anyone's: a limit for the
    # whole site (the shared cache), so visitors cannot get Paperboy's address refused.
    if not ratelimit.allow("arxiv-seed-lookups", settings.SEED_LOOKUPS_PER_MINUTE, 60):
        raise SeedError([BUSY])
    try:
        return backfill.arxiv_papers_by_id(
            _fetch_bytes,
            api_url=settings.ARXIV_API_URL,
            ids=ids,
            delay=settings.BACKFILL_DELAY_SECONDS,
            sleep=time.sleep,
        )
    except FeedError as error:
        # The reason is for the log: a reader can only try again.
        logger.warning("looking up seeds %s on arXiv failed: %s", ",".join(ids[:5]), error)
        raise SeedError([UNREACHABLE]) from None


def _seen_when_published(now: datetime):
    # A seed is an old paper as often as not: seen when it was published (as a
    # backfill's papers are), it reaches only digests whose window it falls in.
    return lambda record: min(record.published or now, now)


def resolve(ids: Sequence[str]) -> Resolved:
    """The Paper of each canonical arXiv id in `ids`: from the database, else asked of
    arXiv and stored. Ids arXiv has no paper for are listed in `missing`; SeedError
    (UNREACHABLE) when arXiv had to be asked and could not be."""
    wanted = list(dict.fromkeys(ids))
    resolved = Resolved(papers=Paper.objects.in_bulk(wanted, field_name="canonical_id"))
    unknown = [canonical for canonical in wanted if canonical not in resolved.papers]
    if not unknown:
        return resolved
    records = _from_arxiv(unknown)
    if records:
        ingest.upsert(records, first_seen=_seen_when_published(timezone.now()))
        stored = Paper.objects.in_bulk([r.canonical_id for r in records], field_name="canonical_id")
        resolved.papers.update(stored)
        resolved.fetched = len(stored)
    resolved.missing = [canonical for canonical in unknown if canonical not in resolved.papers]
    return resolved


def check_interests(interests: Sequence[str]) -> dict[str, Paper]:
    """The papers of the like lines among `interests` (valid lines), found or fetched;
    SeedError naming each id arXiv has no paper for, or saying arXiv is out of reach."""
    ids = like.seed_ids(interests)
    if not ids:
        return {}
    resolved = resolve(ids)
    if resolved.missing:
        raise SeedError(missing_message(canonical) for canonical in resolved.missing)
    return resolved.papers


def titles(interests: Iterable[str]) -> dict[str, Paper]:
    """The stored papers of the like lines among `interests`, by canonical id (one
    query; never the network): what a page shows next to a seed."""
    ids = like.seed_ids(interests)
    return Paper.objects.in_bulk(ids, field_name="canonical_id") if ids else {}


def seed_papers(subscriber: Subscriber) -> list[Paper]:
    """The Paper rows of `subscriber`'s like lines, in their order (one query for the
    papers; the interests from a prefetch when there is one). A seed whose paper is not
    stored (a line saved before seeds were checked) is left out: no network here."""
    ids = like.seed_ids(interest.text for interest in subscriber.interests.all())
    papers = Paper.objects.in_bulk(ids, field_name="canonical_id") if ids else {}
    return [papers[canonical] for canonical in ids if canonical in papers]


def seeds_of(subscriber_ids: Iterable[int]) -> dict[int, list[Paper]]:
    """`seed_papers` of many subscribers in two queries: subscriber id -> their seed
    papers (subscribers without seeds left out)."""
    lines: dict[int, list[str]] = {}
    rows = Interest.objects.filter(
        subscriber_id__in=list(subscriber_ids), text__istartswith=f"{like.WORD}:"
    ).order_by("subscriber_id", "id")
    for subscriber_id, text in rows.values_list("subscriber_id", "text"):
        lines.setdefault(subscriber_id, []).append(text)
    ids = {canonical for texts in lines.values() for canonical in like.seed_ids(texts)}
    papers = Paper.objects.in_bulk(list(ids), field_name="canonical_id") if ids else {}
    found = {}
    for subscriber_id, texts in lines.items():
        seeds = [papers[c] for c in like.seed_ids(texts) if c in papers]
        if seeds:
            found[subscriber_id] = seeds
    return found
