"""Signed links that stand in for passwords.

Each purpose has its own salt, so a confirmation token is worthless on the
unsubscribe URL and the reverse. Tokens carry their issue time (signing adds
it) and expire; `max_age` is checked when a token is read.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

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


def make_token(purpose: str, subscriber_id: int) -> str:
    return signing.dumps({"s": subscriber_id}, salt=_salt(purpose), compress=True)


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


def absolute_url(purpose: str, subscriber_id: int) -> str:
    token = make_token(purpose, subscriber_id)
    return settings.SITE_URL + reverse(
        _URL_NAMES.get(purpose, f"subscriptions:{purpose}"), args=[token]
    )
