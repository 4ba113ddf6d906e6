"""Signed links that stand in for passwords.

Each purpose has its own salt, so a confirmation token is worthless on the
unsubscribe URL and the reverse. Tokens carry their issue time (signing adds
it) and expire; `max_age` is checked when a token is read.
"""

import hashlib
import hmac
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
MANAGE = "manage"
WEB_COPY = "web_copy"  # names a Delivery, not a subscriber

_MAX_AGE_DAYS = {
    CONFIRM: lambda: settings.CONFIRM_LINK_MAX_AGE_DAYS,
    UNSUBSCRIBE: lambda: settings.UNSUBSCRIBE_LINK_MAX_AGE_DAYS,
    MANAGE: lambda: settings.MANAGE_LINK_MAX_AGE_DAYS,
    WEB_COPY: lambda: settings.WEB_COPY_MAX_AGE_DAYS,
}


_URL_NAMES = {WEB_COPY: "web_copy"}


class BadToken(Exception):
    """The link is tampered with, for another purpose, or expired."""


def _salt(purpose: str) -> str:
    return f"paperboy.subscriptions.{purpose}"


@lru_cache(maxsize=64)
class _SignedAt(signing.TimestampSigner):
    """A TimestampSigner whose tokens say they were made at `when`, not now."""

    def __init__(self, *args, when: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.when = int(when.timestamp())

    def timestamp(self) -> str:
        return signing.b62_encode(self.when)


def _signer(purpose: str, secret_key: str, when: datetime | None = None):
    if when is None:
        return signing.TimestampSigner(key=secret_key, salt=_salt(purpose))
    return _SignedAt(key=secret_key, salt=_salt(purpose), when=when)


@lru_cache(maxsize=64)
def _mac_of(purpose: str, secret_key: str) -> "hmac.HMAC":
    """The HMAC that `_signer(purpose, secret_key).signature` computes, keyed once:
    signing.salted_hmac derives its key (a SHA-256 of salt and secret) anew per token."""
    salt = f"{_salt(purpose)}signer".encode()
    return hmac.new(hashlib.sha256(salt + secret_key.encode()).digest(), digestmod=hashlib.sha256)


@lru_cache(maxsize=1024)
def _timestamp(seconds: int) -> str:
    return signing.b62_encode(seconds)


def make_token(purpose: str, subscriber_id: int, when: datetime | None = None) -> str:
    """What `signing.dumps({"s": id}, salt=...)` gives, with one signer per purpose (a
    digest signs three links). Never compressed: zlib never shortens a payload this
    small, so signing.dumps(..., compress=True) made the same token. `when` dates the
    token (its age counts from then): a digest's links are dated by its claim, so every
    attempt to send it carries the same links.

    Built here as TimestampSigner.sign_object builds it (tests/subscriptions/
    test_token_links.py compares them), with the HMAC's key derived once: a digest signs
    three, and the signer's steps cost more than the hashing."""
    if type(subscriber_id) is not int:  # a bool, an int subclass: JSON as Django writes it
        return _signer(purpose, settings.SECRET_KEY, when).sign_object({"s": subscriber_id})
    seconds = int(time.time()) if when is None else int(when.timestamp())
    payload = signing.b64_encode(b'{"s":%d}' % subscriber_id).decode()
    value = f"{payload}:{_timestamp(seconds)}"
    mac = _mac_of(purpose, settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return f"{value}:{signing.b64_encode(mac.digest()).decode()}"


def read_token(purpose: str, token: str) -> int:
    """The subscriber id a valid token names; raises BadToken otherwise."""
    max_age = timedelta(days=_MAX_AGE_DAYS[purpose]())
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired:
        raise BadToken("This link has expired.") from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise BadToken("This link is not valid.")
    return payload["s"]


def issued_at(token: str) -> float:
    """When a token (already checked by read_token) was made, as a Unix time."""
    timestamp = token.rsplit(":", 2)[-2]
    return signing.b62_decode(timestamp)


# Stands in for the token when a link's path is reversed once per purpose: a token's
# characters (URL-safe base64 and ":") come out of reverse() unquoted, like these.
_TOKEN = "TOKEN"


@lru_cache(maxsize=64)
def _path_around_token(purpose: str, script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    path = reverse(_URL_NAMES.get(purpose, f"subscriptions:{purpose}"), args=[_TOKEN])
    before, after = path.split(_TOKEN)
    return before, after


def absolute_url(purpose: str, subscriber_id: int, when: datetime | None = None) -> str:
    return absolute_urls([(purpose, subscriber_id)], when)[0]


def absolute_urls(links: Iterable[tuple[str, int]], when: datetime | None = None) -> list[str]:
    """The signed absolute URL of each (purpose, id) of `links`, all dated `when`. The
    script prefix and URLconf are looked up once (thread- and request-local values:
    their lookups cost as much as signing a digest's three links)."""
    prefix, urlconf, site = get_script_prefix(), get_urlconf(), settings.SITE_URL
    urls = []
    for purpose, subscriber_id in links:
        before, after = _path_around_token(purpose, prefix, urlconf)
        urls.append(f"{site}{before}{make_token(purpose, subscriber_id, when)}{after}")
    return urls
