"""The private feed's secret: a random token on the subscriber, in the feed's URL.

Random rather than signed: a signed link cannot be taken back, and a feed URL ends up
in feed readers, synced devices and shared OPML files, so whoever has it must be
stoppable. Revoking sets it to None (the URL answers 404 from then on); renewing puts
a new one in its place. The manage page shows it (digest/atom.py builds the feed).
"""

import re
import secrets

from subscriptions.models import Subscriber

# secrets.token_urlsafe(32): 43 characters of [A-Za-z0-9_-], 256 random bits.
_TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def renew(subscriber: Subscriber) -> str:
    """A new feed URL for `subscriber`; the old one stops working at once."""
    subscriber.feed_token = new_token()
    subscriber.save(update_fields=["feed_token"])
    return subscriber.feed_token


def revoke(subscriber: Subscriber) -> None:
    """No feed URL any more: the old one answers 404."""
    subscriber.feed_token = None
    subscriber.save(update_fields=["feed_token"])


def give_token(subscriber: Subscriber) -> None:
    """Put a feed token on `subscriber` if it has none (saved by the caller): every
    confirmed subscriber has a feed, and a feed-only one needs it."""
    if not subscriber.feed_token:
        subscriber.feed_token = new_token()


def subscriber_for(token: str) -> Subscriber | None:
    """The subscriber whose feed `token` opens, or None (unknown or revoked)."""
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    return Subscriber.objects.filter(feed_token=token).first()
