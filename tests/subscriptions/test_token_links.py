"""Links signed the fast way (one signer per purpose, the path reversed once) are the
links signing.dumps and reverse() make, and read back; a new SECRET_KEY is used at once."""

from datetime import UTC, datetime

import time_machine
from django.conf import settings
from django.core import signing
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from subscriptions import tokens


@time_machine.travel("2026-12-02 08:00:00 +0000", tick=False)
def test_tokens_and_links_are_what_signing_dumps_and_reverse_make():
    for purpose in (tokens.CONFIRM, tokens.UNSUBSCRIBE, tokens.MANAGE, tokens.WEB_COPY):
        for number in (1, 42, 10**9):
            expected = signing.dumps(
                {"s": number}, salt=f"paperboy.subscriptions.{purpose}", compress=True
            )
            assert tokens.make_token(purpose, number) == expected
            name = "web_copy" if purpose == tokens.WEB_COPY else f"subscriptions:{purpose}"
            url = settings.SITE_URL + reverse(name, args=[expected])
            assert tokens.absolute_url(purpose, number) == url
            assert tokens.read_token(purpose, expected) == number


def test_a_new_secret_key_signs_new_links():
    before = tokens.make_token(tokens.MANAGE, 7)
    with override_settings(SECRET_KEY="another-secret-key-0123456789abcdefghijklmnop"):
        after = tokens.make_token(tokens.MANAGE, 7)
        assert tokens.read_token(tokens.MANAGE, after) == 7
    assert before.rsplit(":", 1)[1] != after.rsplit(":", 1)[1]


def test_a_dated_token_is_what_signing_dumps_made_at_that_time():
    when = datetime(2026, 11, 28, 6, 30, 15, 123456, tzinfo=UTC)
    for purpose in (tokens.UNSUBSCRIBE, tokens.MANAGE, tokens.WEB_COPY):
        for number in (0, 7, 123456789012):
            with time_machine.travel(when, tick=False):
                expected = signing.dumps({"s": number}, salt=f"paperboy.subscriptions.{purpose}")
            assert tokens.make_token(purpose, number, when) == expected
            assert tokens.read_token(purpose, expected) == number


@time_machine.travel("2026-12-02 08:00:00 +0000", tick=False)
def test_several_links_at_once_are_what_reverse_makes_in_their_order_under_any_prefix():
    links = [(tokens.WEB_COPY, 5), (tokens.UNSUBSCRIBE, 9), (tokens.MANAGE, 9), (tokens.MANAGE, 3)]
    for prefix in ("/", "/paperboy/"):
        set_script_prefix(prefix)
        try:
            expected = [
                settings.SITE_URL
                + reverse(
                    "web_copy" if purpose == tokens.WEB_COPY else f"subscriptions:{purpose}",
                    args=[tokens.make_token(purpose, number)],
                )
                for purpose, number in links
            ]
            assert tokens.absolute_urls(links) == expected
            assert all(url.startswith(settings.SITE_URL + prefix) for url in expected)
        finally:
            set_script_prefix("/")
