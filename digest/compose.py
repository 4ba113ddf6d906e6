"""What goes into a subscriber's digest, and the email message that carries it.

One builder serves the sender and any preview: `select_items` decides which
papers (the matching engine ranks them), `build_digest_message` renders the
subject, text and HTML templates and sets every header in one place.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet

from digest import matching
from digest.models import Paper
from subscriptions import tokens
from subscriptions.emails import build_message
from subscriptions.models import Subscriber


@dataclass(frozen=True)
class DigestItem:
    paper: Paper
    score: float
    reasons: tuple[matching.Reason, ...]

    @property
    def matched_interests(self) -> list[str]:
        return [reason.interest for reason in self.reasons]

    @property
    def matched_words(self) -> list[str]:
        """The words that matched, as the paper writes them, for highlighting."""
        words = (word for reason in self.reasons for word in reason.matched)
        return list(dict.fromkeys(words))


def papers_first_seen_between(start: datetime, end: datetime) -> QuerySet[Paper]:
    """The news of a window: papers Paperboy first learned of in (start, end]."""
    return Paper.objects.filter(first_seen__gt=start, first_seen__lte=end, announced_as_new=True)


def document_of(paper: Paper) -> matching.Document:
    """A paper as the matching engine sees it."""
    return matching.Document(
        id=paper.canonical_id,
        title=paper.title,
        abstract=paper.abstract,
        authors=tuple(paper.authors),
        categories=tuple(paper.categories),
        upvotes=paper.upvotes or 0,
    )


def in_categories(paper: Paper, categories: Iterable[str]) -> bool:
    """True when `paper` is in one of `categories` (an archive like "astro-ph" counts too)."""
    wanted = {category.lower() for category in categories}
    return not wanted or any(
        not wanted.isdisjoint(matching.category_keys(category)) for category in paper.categories
    )


def select_items(
    interests: list[str], papers: Iterable[Paper], categories: Iterable[str] = ()
) -> list[DigestItem]:
    """The papers that match any interest, best first, each with why.

    `categories`, when given, keeps only papers in those arXiv categories.
    """
    categories = list(categories)
    by_id = {p.canonical_id: p for p in papers if in_categories(p, categories)}
    documents = map(document_of, by_id.values())
    return [
        DigestItem(by_id[result.document_id], result.score, result.reasons)
        for result in matching.match_papers(interests, documents)
    ]


def digest_headers(unsubscribe_url: str, delivery_id: int) -> dict[str, str]:
    """Every header a digest carries. Built only from our own values, never user input."""
    site_host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return {
        "Message-ID": make_msgid("digest", domain=site_host),
        # RFC 8058 one-click: one https URL that takes a POST, and the POST body.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"Paperboy digest <digest.{site_host}>",
        "X-Paperboy-Delivery": str(delivery_id),
    }


def build_digest_message(
    subscriber: Subscriber, items: list[DigestItem], delivery_id: int, period: str
) -> EmailMultiAlternatives:
    shown = items[: settings.DIGEST_MAX_PAPERS]
    unsubscribe_url = tokens.absolute_url(tokens.UNSUBSCRIBE, subscriber.pk)
    context = {
        "subscriber": subscriber,
        "items": shown,
        "more_count": len(items) - len(shown),
        "period": period,
        "unsubscribe_url": unsubscribe_url,
        "manage_url": tokens.absolute_url(tokens.MANAGE, subscriber.pk),
    }
    return build_message(
        "emails/digest",
        context,
        subscriber.email,
        settings.DIGEST_FROM_EMAIL,
        headers=digest_headers(unsubscribe_url, delivery_id),
    )
