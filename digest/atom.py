"""A subscriber's private Atom feed (RFC 4287): one entry per paper of their recent
digests, with the interests that found it and the matched words highlighted, as the
digest showed them.

Built only from stored rows: the digests' items (papers, scores, reasons) and their
papers, so a request costs a few queries and some templating, never a match. Its
validators come first: `feed_state` reads the digests' items and their papers'
versions only, and names what the feed would show (ETag, Last-Modified), so a feed
reader asking again gets its 304 from three small queries, nothing rendered.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import feedgenerator

from digest import compose, history
from digest.models import Delivery, Paper
from digest.templatetags.digest_tags import highlight
from subscriptions.models import Subscriber

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# Entries in the feed: readers keep what they have seen, so the newest are enough.
MAX_ENTRIES = 100
# Digests read first (most hold 5-25 papers, so these are usually all it takes).
_BATCH = 10
# Changes whenever what an unchanged digest looks like in the feed changes (templates,
# fields), so readers holding an old ETag get the new form.
FORMAT = "paperboy-atom-1"
# Entry ids live in a namespace of our own: stable for a paper in one digest, unique
# across subscribers (the digest's message key is), and naming nobody.
_ENTRY_NAMESPACE = uuid.UUID("5f0f6c1e-2b1d-4c69-9a43-7f3c8a0b9d11")


@dataclass(frozen=True)
class FeedState:
    """What one subscriber's feed shows now, and its validators: each entry as its digest
    stored it ([canonical id, score, reasons]), with that digest."""

    subscriber: Subscriber
    entries: list[tuple[Delivery, list]]
    etag: str
    last_modified: datetime | None


def _latest_entries(subscriber: Subscriber) -> list[tuple[Delivery, list]]:
    """The stored items of the subscriber's latest digests, newest first, at most
    MAX_ENTRIES (one query, two when the first digests hold few papers)."""
    digests = history.past_digests(subscriber).only(
        "pk", "items", "period", "message_key", "window_end", "sent_at"
    )
    entries: list[tuple[Delivery, list]] = []
    read, size = 0, _BATCH
    while len(entries) < MAX_ENTRIES:
        batch = list(digests[read : read + size])
        read += len(batch)
        entries += [(delivery, entry) for delivery in batch for entry in delivery.items]
        if len(batch) < size:
            break
        # Every digest holds a paper at least: never more digests than entries missing.
        size = MAX_ENTRIES - len(entries)
    return entries[:MAX_ENTRIES]


def feed_state(subscriber: Subscriber) -> FeedState:
    """The papers of the subscriber's latest digests, and an ETag and Last-Modified naming
    exactly what the feed would show: each entry's digest and time, and the version of
    its paper (only the papers' versions are read here, not the papers)."""
    entries = _latest_entries(subscriber)
    versions = dict(
        Paper.objects.filter(canonical_id__in={entry[0] for _, entry in entries}).values_list(
            "canonical_id", "updated_at"
        )
    )
    entries = [(d, entry) for d, entry in entries if entry[0] in versions]  # a paper gone
    fingerprint = hashlib.sha256()
    fingerprint.update(f"{FORMAT}|{settings.SITE_URL}|{subscriber.feed_token}".encode())
    moments = []
    for delivery, (paper_id, *_) in entries:
        made = history.made_at(delivery)
        moments += [made, versions[paper_id]]
        fingerprint.update(
            f"|{delivery.pk}:{made.isoformat()}:{paper_id}:{versions[paper_id].isoformat()}".encode()
        )
    return FeedState(
        subscriber,
        entries,
        etag=f'"{fingerprint.hexdigest()[:32]}"',
        last_modified=max(moments, default=None),
    )


class _PaperFeed(feedgenerator.Atom1Feed):
    """Django's Atom writer, with every author of a paper and a link to its PDF."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        for name in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        if item["pdf_url"]:
            handler.addQuickElement(
                "link", "", {"rel": "related", "href": item["pdf_url"], "title": "PDF"}
            )

    def latest_post_date(self) -> datetime:
        # With no entry, the feed's own date, not the time of the request: the same
        # feed reads the same.
        return super().latest_post_date() if self.items else self.feed["quiet_since"]


def feed_url(subscriber: Subscriber) -> str:
    return settings.SITE_URL + reverse("subscriptions:feed", args=[subscriber.feed_token])


def _entry_id(delivery: Delivery, canonical_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_ENTRY_NAMESPACE, f'{delivery.message_key}|{canonical_id}')}"


def _entry_html(entry: history.SentPaper) -> str:
    """The paper as the digest's web copy shows it: the interests that found it and on
    which words (a title's highlight, which an Atom title cannot carry, is said here),
    the authors, the whole abstract with the matched words marked, its facts and links."""
    paper, item = entry.paper, entry.item
    words = item.matched_words
    context = {
        "paper": paper,
        "reasons": [
            {"interest": r.interest, "words": r.matched, "where": " and ".join(r.fields)}
            for r in item.reasons
        ],
        "authors": compose.authors_line(paper.authors, compose.FULL),
        "abstract_html": highlight(paper.abstract, words),
        **compose.paper_facts(paper),
    }
    return render_to_string("feeds/entry.html", context)


def render(state: FeedState) -> bytes:
    """The Atom document of `state`."""
    subscriber = state.subscriber
    site_host = urlsplit(settings.SITE_URL).hostname or "localhost"
    # A new token is a new feed; the id names the token without giving it away.
    token_hash = hashlib.sha256(subscriber.feed_token.encode()).hexdigest()[:24]
    feed = _PaperFeed(
        title="Paperboy: your papers",
        link=settings.SITE_URL + "/",
        description="The papers of your Paperboy digests, with why each is there.",
        subtitle="The papers of your Paperboy digests, with why each is there.",
        feed_url=feed_url(subscriber),
        feed_guid=f"tag:{site_host},2026:feed.{token_hash}",
        author_name="Paperboy",
        language="en",
        quiet_since=subscriber.confirmed_at or subscriber.signed_up_at,
    )
    papers = Paper.objects.in_bulk(
        {entry[0] for _, entry in state.entries}, field_name="canonical_id"
    )
    for delivery, stored in state.entries:
        found = compose.items_from_json([stored], papers)
        if not found:
            continue  # gone since feed_state read it
        entry = history.SentPaper(found[0], delivery)
        paper, made = entry.paper, history.made_at(delivery)
        feed.add_item(
            title=paper.title,
            link=paper.abs_url or paper.hf_url or feed_url(subscriber),
            description=_entry_html(entry),
            unique_id=_entry_id(entry.delivery, paper.canonical_id),
            pubdate=made,
            updateddate=made,
            categories=paper.categories,
            authors=paper.authors,
            pdf_url=paper.pdf_url,
        )
    return feed.writeString("utf-8").encode()
