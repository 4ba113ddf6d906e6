"""subscriptions/csrf.py: the signup page's CSRF token drawn with one random read, in
Django's format, for Django's own cookie and check."""

from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CSRF_TOKEN_LENGTH,
    _check_token_format,
    _unmask_cipher_token,
)
from django.test import Client, RequestFactory

from subscriptions import csrf

pytestmark = pytest.mark.django_db


def test_a_new_visitor_gets_a_new_secret_and_a_token_that_masks_it():
    request = RequestFactory().get("/")

    token = csrf.get_token(request)

    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == CSRF_SECRET_LENGTH and len(token) == CSRF_TOKEN_LENGTH
    _check_token_format(token)  # raises if Django would refuse it
    assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"]


def test_a_visitor_with_a_cookie_keeps_their_secret_and_gets_it_renewed():
    visitor = Client()
    first = visitor.get("/")
    secret = first.cookies["csrftoken"].value

    again = visitor.get("/")

    assert again.cookies["csrftoken"].value == secret  # sent again: its expiry renewed
    token = again.content.split(b'name="csrfmiddlewaretoken" value="')[1][:CSRF_TOKEN_LENGTH]
    assert _unmask_cipher_token(token.decode()) == secret


def test_random_characters_are_the_allowed_ones_each_about_as_often():
    drawn = csrf.random_chars(62 * 2500)

    assert len(drawn) == 62 * 2500
    counts = Counter(drawn)
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # Each is expected 2,500 times (standard deviation ~50: the bounds are 6 of them);
    # b % 62 over all 256 bytes would draw the first eight ~3,030 times.
    assert max(counts.values()) < 2800 and min(counts.values()) > 2200
    assert csrf.random_chars(5) != csrf.random_chars(5)
