"""A visitor's CSRF token as `django.middleware.csrf.get_token` makes it, drawn from
one read of the OS's random generator.

Django's `get_random_string` reads the generator once per character (`secrets.choice`):
a new visitor's secret and the token's mask are 64 reads, ~0.2 ms, half of the cost of
serving the signup page. Here each is one `os.urandom` read, bytes mapped onto the same
62 characters without bias (a byte of 248 or more is dropped: 248 = 4 x 62). The secret
is kept where Django's CsrfViewMiddleware looks for it and sets its cookie from, so
the cookie, its renewal and the check of a POST are Django's own.
"""

import os

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_CHARS = CSRF_ALLOWED_CHARS
_UNBIASED = 256 - 256 % len(_CHARS)  # 248


def random_chars(length: int) -> str:
    """`length` characters drawn uniformly from CSRF_ALLOWED_CHARS, by the OS's generator."""
    found = ""
    while len(found) < length:
        # A byte is dropped 8 times in 256: 16 spare ones are almost always enough.
        found += "".join(_CHARS[b % len(_CHARS)] for b in os.urandom(length + 16) if b < _UNBIASED)
    return found[:length]


def get_token(request: HttpRequest) -> str:
    """The CSRF token for a form on this response: `django.middleware.csrf.get_token`,
    which it replaces on the signup page (same secret, cookie and token format)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = random_chars(CSRF_SECRET_LENGTH)
        request.META["CSRF_COOKIE"] = secret
    # Sent again even when the visitor has it, to renew its expiry (as Django does).
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_chars(CSRF_SECRET_LENGTH)
    index = _CHARS.index
    cipher = "".join(
        _CHARS[(index(s) + index(m)) % len(_CHARS)] for s, m in zip(secret, mask, strict=False)
    )
    return mask + cipher
