"""A reader's "more like this" / "less like this": the links each paper of a digest
carries, and what a click records (digest.models.Feedback).

A link names one delivery and one paper, signed: `<kind><delivery>.<paper>.<mac>`,
the MAC a keyed BLAKE2b of 128 bits under a key derived from SECRET_KEY (and
checked under SECRET_KEY_FALLBACKS too). The delivery's part of the MAC is
computed once per digest and copied per paper, with no JSON, timestamp or
compression (what django.core.signing adds): a paper's link costs ~1 us;
a link expires with its digest (WEB_COPY_MAX_AGE_DAYS after the claim), which the
delivery row says. `kind` tells the email's links (`e`) from the web copy's (`w`):
a web copy is forwarded, so its answer page opens nobody's account.

A link's GET only asks (a mail gateway's scanner opens every link); the button on
that page posts, and only the post records (views.feedback_link).
"""

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from digest import personal
from digest.models import Delivery, Feedback, Paper
from subscriptions.models import Subscriber
from subscriptions.tokens import BadToken

MORE, LESS = "more", "less"
VALUES = {MORE: Feedback.Value.MORE, LESS: Feedback.Value.LESS}
CHOICES = {value: choice for choice, value in VALUES.items()}
EMAIL, WEB_COPY = "e", "w"

_TOKEN = re.compile(r"([ew])([1-9][0-9]{0,11})\.([1-9][0-9]{0,11})\.([0-9a-f]{32})")


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    # A key of its own for these links: a MAC here is worth nothing to django.core.signing.
    return hashlib.sha256(f"paperboy.digest.likes:{secret}".encode()).digest()


def _delivery_mac(secret: str, kind: str, delivery_id: int) -> "hashlib._Hash":
    """Keyed BLAKE2b (a MAC by design, RFC 7693) over "kind:delivery:", to be copied
    and finished per paper: a copy costs a tenth of a fresh HMAC-SHA256."""
    return hashlib.blake2b(f"{kind}:{delivery_id}:".encode(), key=_key(secret), digest_size=16)


def _mac(state: "hashlib._Hash", paper_pk: int) -> str:
    mac = state.copy()
    mac.update(str(paper_pk).encode())
    return mac.hexdigest()


def link_token(delivery_id: int, paper_pk: int, kind: str = EMAIL) -> str:
    mac = _mac(_delivery_mac(settings.SECRET_KEY, kind, delivery_id), paper_pk)
    return f"{kind}{delivery_id}.{paper_pk}.{mac}"


@lru_cache(maxsize=4)
def _url_parts(site_url: str) -> tuple[str, str]:
    # reverse() once: a digest asks for 25 links.
    url = site_url + reverse("feedback_link", args=["TOKEN", MORE])
    before, after = url.split("TOKEN")
    return before, after.removesuffix(f"{MORE}/")


def link_maker(delivery_id: int, kind: str = EMAIL) -> Callable[[int], str]:
    """The base of a paper's feedback links in one delivery's digest, by paper pk; the
    links are the base + "more/" and + "less/"."""
    before, after = _url_parts(settings.SITE_URL)
    state = _delivery_mac(settings.SECRET_KEY, kind, delivery_id)
    prefix = f"{before}{kind}{delivery_id}."

    def base(paper_pk: int) -> str:
        return f"{prefix}{paper_pk}.{_mac(state, paper_pk)}{after}"

    return base


@dataclass(frozen=True)
class Link:
    """What a valid feedback link names."""

    kind: str
    delivery: Delivery
    paper: Paper

    @property
    def subscriber(self) -> Subscriber:
        return self.delivery.subscriber

    @property
    def from_email(self) -> bool:
        return self.kind == EMAIL


def _checked(token: str) -> tuple[str, int, int]:
    found = _TOKEN.fullmatch(token)
    if found is None:
        raise BadToken("This link is not valid.")
    kind, delivery_id, paper_pk, mac = found.groups()
    delivery_id, paper_pk = int(delivery_id), int(paper_pk)
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    if not any(
        hmac.compare_digest(mac, _mac(_delivery_mac(secret, kind, delivery_id), paper_pk))
        for secret in secrets
    ):
        raise BadToken("This link is not valid.")
    return kind, delivery_id, paper_pk


def read_link(token: str, now: datetime | None = None) -> Link:
    """The delivery and paper a feedback link names; BadToken when it is not one of
    ours or its digest is older than WEB_COPY_MAX_AGE_DAYS. Http404-like cases (the
    digest or paper gone: its reader deleted everything) raise LookupError."""
    kind, delivery_id, paper_pk = _checked(token)
    delivery = Delivery.objects.select_related("subscriber").filter(pk=delivery_id).first()
    paper = Paper.objects.filter(pk=paper_pk).first()
    if delivery is None or paper is None:
        raise LookupError("This digest is no longer kept.")
    max_age = timedelta(days=settings.WEB_COPY_MAX_AGE_DAYS)
    if delivery.claimed_at < (now or timezone.now()) - max_age:
        raise BadToken("This link has expired.")
    return Link(kind, delivery, paper)


def current(subscriber: Subscriber, paper: Paper) -> int | None:
    """What the reader says of `paper` now: +1, -1, or None."""
    return (
        Feedback.objects.filter(subscriber=subscriber, paper=paper)
        .values_list("value", flat=True)
        .first()
    )


def record(link: Link, value: int, now: datetime | None = None) -> int | None:
    """Record the reader's `value` (+1 more, -1 less) for the link's paper, replacing
    what they said of it before; that earlier value (None: nothing), for an undo."""
    with transaction.atomic():
        previous = current(link.subscriber, link.paper)
        Feedback.objects.update_or_create(
            subscriber=link.subscriber,
            paper=link.paper,
            defaults={
                "value": value,
                "delivery": link.delivery,
                "created": now or timezone.now(),
            },
        )
        personal.retrain_soon(link.subscriber.pk)
    return previous


def undo(link: Link, previous: int | None, now: datetime | None = None) -> None:
    """Put back what the reader said of the paper before a click: `previous` (+1, -1)
    or nothing. The reader could set either value with the link anyway."""
    if previous is None:
        Feedback.objects.filter(subscriber=link.subscriber, paper=link.paper).delete()
        personal.retrain_soon(link.subscriber.pk)
    else:
        record(link, previous, now)


def remove(subscriber: Subscriber, feedback_ids: Iterable[int]) -> int:
    """Forget the reader's feedback of these ids (theirs only); how many went."""
    deleted, _ = Feedback.objects.filter(subscriber=subscriber, pk__in=list(feedback_ids)).delete()
    if deleted:
        personal.retrain_soon(subscriber.pk)
    return deleted


def given_by(subscriber: Subscriber) -> dict[int, list[Feedback]]:
    """The reader's feedback, newest first, by value: {+1: [...], -1: [...]}."""
    found: dict[int, list[Feedback]] = {Feedback.Value.MORE: [], Feedback.Value.LESS: []}
    for feedback in Feedback.objects.filter(subscriber=subscriber).select_related("paper"):
        found[feedback.value].append(feedback)
    return found


def values_of(subscriber_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Every feedback of these readers in one query: {subscriber id: {canonical id: ±1}}
    (for ranking their digests)."""
    found: dict[int, dict[str, int]] = {}
    rows = Feedback.objects.filter(subscriber_id__in=list(subscriber_ids)).values_list(
        "subscriber_id", "paper__canonical_id", "value"
    )
    for subscriber_id, canonical_id, value in rows:
        found.setdefault(subscriber_id, {})[canonical_id] = value
    return found
