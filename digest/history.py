"""A subscriber's past digests and the papers they held: what their feed, archive,
search and export are built from. Only stored rows are read (each Delivery keeps its
items: paper ids, scores and reasons), so nothing here matches anything again.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from digest import compose
from digest.models import Delivery, Paper
from subscriptions import tokens
from subscriptions.models import Subscriber

# Digests that went out, may have (sending: the provider may have it), or went into
# the feed: those whose papers the subscriber has, or will have in a moment.
HELD = [
    Delivery.Status.SENDING,
    Delivery.Status.SENT,
    Delivery.Status.DELIVERED,
    Delivery.Status.BOUNCED,
    Delivery.Status.COMPLAINED,
    Delivery.Status.FEED,
]


def past_digests(subscriber: Subscriber) -> QuerySet[Delivery]:
    """The subscriber's digests that held papers, newest first."""
    return (
        Delivery.objects.filter(subscriber=subscriber, status__in=HELD)
        .exclude(items=[])
        .order_by("-window_end", "-pk")
    )


def made_at(delivery: Delivery) -> datetime:
    """When a digest was made: handed over (or put in the feed), else its window's end."""
    return delivery.sent_at or delivery.window_end


@dataclass(frozen=True)
class Digest:
    """One past digest as the archive lists it."""

    delivery: Delivery
    paper_count: int
    first_titles: list[str]

    @property
    def made_at(self) -> datetime:
        return made_at(self.delivery)

    @property
    def web_url(self) -> str:
        return web_copy_url(self.delivery)


def web_copy_url(delivery: Delivery) -> str:
    """The digest's web copy, at a signed link made now (it lasts WEB_COPY_MAX_AGE_DAYS)."""
    return tokens.absolute_url(tokens.WEB_COPY, delivery.pk)


def summaries(deliveries: Iterable[Delivery], titles: int = 3) -> list[Digest]:
    """Each digest with its number of papers and its first `titles` titles (one query
    for the papers of them all)."""
    deliveries = list(deliveries)
    firsts = {d.pk: [entry[0] for entry in d.items[:titles]] for d in deliveries}
    wanted = {paper_id for ids in firsts.values() for paper_id in ids}
    found = dict(Paper.objects.filter(canonical_id__in=wanted).values_list("canonical_id", "title"))
    return [
        Digest(d, len(d.items), [found[i] for i in firsts[d.pk] if i in found]) for d in deliveries
    ]


@dataclass(frozen=True)
class SentPaper:
    """A paper one digest held, with why it was there."""

    item: compose.DigestItem
    delivery: Delivery

    @property
    def paper(self) -> Paper:
        return self.item.paper

    @property
    def made_at(self) -> datetime:
        return made_at(self.delivery)

    @property
    def web_url(self) -> str:
        return web_copy_url(self.delivery)


def sent_papers(deliveries: Iterable[Delivery]) -> Iterator[SentPaper]:
    """The papers `deliveries` held, in their order (newest digest first as given), each
    with its digest's reasons; the papers read in one query."""
    deliveries = list(deliveries)
    papers = compose.stored_papers(deliveries)
    for delivery in deliveries:
        for item in compose.items_from_json(delivery.items, papers):
            yield SentPaper(item, delivery)


# Words of a search that count; the rest of a long query changes little but its cost.
MAX_SEARCH_WORDS = 20


def search(subscriber: Subscriber, text: str) -> list[tuple[str, Delivery]]:
    """The papers the subscriber was sent whose title or abstract holds every word of
    `text` (any case), newest digest first: (canonical id, the digest) each, once.

    A plain substring search on the stored papers, so what it finds is what the words
    say; the digest a paper came in is the first (newest) that held it.
    """
    words = text.split()[:MAX_SEARCH_WORDS]
    if not words:
        return []
    order: dict[str, Delivery] = {}
    for delivery in past_digests(subscriber).only("pk", "items", "window_end", "sent_at"):
        for entry in delivery.items:
            order.setdefault(entry[0], delivery)
    condition = Q()
    for word in words:
        condition &= Q(title__icontains=word) | Q(abstract__icontains=word)
    found = set(
        Paper.objects.filter(condition, canonical_id__in=list(order)).values_list(
            "canonical_id", flat=True
        )
    )
    return [(paper_id, delivery) for paper_id, delivery in order.items() if paper_id in found]


def found_papers(found: Iterable[tuple[str, Delivery]]) -> list[SentPaper]:
    """Search results (canonical id, digest) as papers with their digest's reasons."""
    found = list(found)
    papers = Paper.objects.in_bulk([paper_id for paper_id, _ in found], field_name="canonical_id")
    results = []
    for paper_id, delivery in found:
        entries = [entry for entry in delivery.items if entry[0] == paper_id]
        results += [SentPaper(item, delivery) for item in compose.items_from_json(entries, papers)]
    return results
