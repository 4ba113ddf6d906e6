"""The admin login gives up guessing: after a few failures from one address, or for one
username, it refuses every login, the right password too, for a cool-off period."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
PASSWORD = "correct horse battery staple"
LOCKED_MESSAGE = "Too many failed logins"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.com", PASSWORD)


def log_in(username: str, password: str, ip: str = "203.0.113.7") -> tuple[Client, int, str]:
    """A fresh client's login attempt from `ip`: the client, the status and the page."""
    client = Client(REMOTE_ADDR=ip)
    response = client.post(
        LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}
    )
    return client, response.status_code, response.content.decode()


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_the_limit_is_five_failures_and_fifteen_minutes_by_default():
    assert settings.ADMIN_LOGIN_FAILURE_LIMIT == 5
    assert settings.ADMIN_LOGIN_LOCKOUT_MINUTES == 15


def test_after_the_failure_limit_the_right_password_is_refused_until_the_cool_off_ends(staff):
    for _ in range(settings.ADMIN_LOGIN_FAILURE_LIMIT - 1):
        _, status, page = log_in("editor", "wrong guess")
        assert status == 200 and "Please enter the correct username and password" in page
    _, status, page = log_in("editor", "wrong guess")
    assert status == 429 and LOCKED_MESSAGE in page  # the last failure allowed locks

    client, status, page = log_in("editor", PASSWORD)

    assert status == 429
    assert LOCKED_MESSAGE in page and "15 minutes" in page
    assert not is_logged_in(client)

    later = timezone.now() + timedelta(minutes=settings.ADMIN_LOGIN_LOCKOUT_MINUTES, seconds=5)
    with time_machine.travel(later):
        client, status, _ = log_in("editor", PASSWORD)
        assert status == 302
        assert is_logged_in(client)


def test_a_username_is_locked_whatever_address_the_guesses_come_from(staff):
    for n in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        log_in("editor", f"guess {n}", ip=f"198.51.100.{n + 1}")

    client, status, page = log_in("editor", PASSWORD, ip="192.0.2.200")

    assert status == 429 and LOCKED_MESSAGE in page
    assert not is_logged_in(client)


def test_an_address_is_locked_whatever_usernames_it_tries(staff):
    get_user_model().objects.create_superuser("other", "other@example.com", PASSWORD)
    for n in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        log_in(f"user{n}", "guess", ip="203.0.113.66")

    client, status, page = log_in("editor", PASSWORD, ip="203.0.113.66")

    assert status == 429 and LOCKED_MESSAGE in page
    assert not is_logged_in(client)
    # Only that address: the same editor from elsewhere logs in.
    client, status, _ = log_in("editor", PASSWORD, ip="192.0.2.10")
    assert status == 302 and is_logged_in(client)


def test_a_successful_login_forgets_the_earlier_failures(staff):
    for _ in range(settings.ADMIN_LOGIN_FAILURE_LIMIT - 1):
        log_in("editor", "typo")
    log_in("editor", PASSWORD)
    for _ in range(settings.ADMIN_LOGIN_FAILURE_LIMIT - 1):
        log_in("editor", "typo")

    client, status, _ = log_in("editor", PASSWORD)

    assert status == 302 and is_logged_in(client)


def test_behind_a_proxy_the_visitor_address_is_locked_not_the_proxy(staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    def through_proxy(username: str, password: str, visitor: str) -> tuple[Client, int]:
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=visitor)
        response = client.post(LOGIN_URL, {"username": username, "password": password})
        return client, response.status_code

    for n in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        through_proxy(f"user{n}", "guess", visitor="203.0.113.99")

    assert through_proxy("editor", PASSWORD, visitor="203.0.113.99")[1] == 429
    client, status = through_proxy("editor", PASSWORD, visitor="192.0.2.11")
    assert status == 302 and is_logged_in(client)
