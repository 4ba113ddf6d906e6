"""The address the "check your inbox" page names: the one this browser just typed.

Signup and "send me my link" answer alike for every address, known or not, so the
page may name only what the visitor typed, never anything we know about it: the same
typed address gives the same page whatever its state. The address travels in no URL
(no query string to land in access logs, proxies or browser history) and in no
cookie: it waits in the shared cache under a random key for an hour, and only the key
goes to the browser, in a cookie sent to the check-your-inbox page alone. The cache
rather than the session: no database write, so a signup stays one statement for every
state (tests/subscriptions/test_signup_oracle.py), and a stranger's typo is gone
within the hour instead of lasting as long as a session.
"""

import re
import secrets

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

COOKIE = "mailed_to"
LIFETIME_SECONDS = 3600
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) makes


def _cache_key(key: str) -> str:
    return f"mailed-to:{key}"


def remember(response: HttpResponse, email: str) -> None:
    """Let the check-your-inbox page this response leads to name `email`."""
    key = secrets.token_urlsafe(32)
    cache.set(_cache_key(key), email, LIFETIME_SECONDS)
    response.set_cookie(
        COOKIE,
        key,
        max_age=LIFETIME_SECONDS,
        path=reverse("subscriptions:check_inbox"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def recall(request: HttpRequest) -> str | None:
    """The address remembered for this browser, or None (none, expired, or a forged key)."""
    key = request.COOKIES.get(COOKIE, "")
    if not _KEY.fullmatch(key):
        return None
    return cache.get(_cache_key(key))
