"""The signed links of groups: the owner's manage page, a member's invitation and leave
links. Each purpose has its own salt (a manage link is worthless on the leave URL),
and each carries its issue time and expires, as subscriptions/tokens.py."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from subscriptions.tokens import BadToken

MANAGE = "manage"  # names a Group
INVITE = "join"  # names a Membership and its invitation's key
LEAVE = "leave"  # names a Membership

_MAX_AGE_DAYS = {
    MANAGE: lambda: settings.MANAGE_LINK_MAX_AGE_DAYS,
    INVITE: lambda: settings.GROUP_INVITE_LINK_MAX_AGE_DAYS,
    LEAVE: lambda: settings.UNSUBSCRIBE_LINK_MAX_AGE_DAYS,
}


def _salt(purpose: str) -> str:
    return f"paperboy.groups.{purpose}"


def make_token(purpose: str, **payload: int | str) -> str:
    return signing.dumps(payload, salt=_salt(purpose), compress=True)


def read_token(purpose: str, token: str) -> dict:
    """The payload of a valid token; BadToken when tampered with, for another purpose,
    or expired."""
    max_age = timedelta(days=_MAX_AGE_DAYS[purpose]())
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired:
        raise BadToken("This link has expired.") from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None
    if not isinstance(payload, dict):
        raise BadToken("This link is not valid.")
    return payload


def read_id(purpose: str, token: str, key: str) -> int:
    """The id `key` names in a valid token of `purpose`."""
    value = read_token(purpose, token).get(key)
    if not isinstance(value, int):
        raise BadToken("This link is not valid.")
    return value


def manage_url(group_id: int) -> str:
    token = make_token(MANAGE, g=group_id)
    return settings.SITE_URL + reverse("groups:manage", args=[token])


def invite_url(membership_id: int, invite_key: str) -> str:
    token = make_token(INVITE, m=membership_id, k=invite_key)
    return settings.SITE_URL + reverse("groups:join", args=[token])


def leave_url(membership_id: int) -> str:
    token = make_token(LEAVE, m=membership_id)
    return settings.SITE_URL + reverse("groups:leave", args=[token])
