"""The "check your inbox" page names the address the visitor typed (issue 12), and
only that: the same typed address gives the same answers, redirect and page alike,
whatever we know of it. The address travels in neither the URL nor a cookie."""

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions.models import Subscriber
from tests.subscriptions.test_signup import KNOWN_STATES, SIGNUP, _comparable

pytestmark = pytest.mark.django_db

CHECK_INBOX = reverse("subscriptions:check_inbox")


def _sign_up_and_look(email: str, path: str = "/", data: dict = SIGNUP) -> tuple:
    """A browser's signup (or link request) of `email` and the page it is sent to."""
    client = Client(enforce_csrf_checks=True)
    client.get(path)
    token = client.cookies["csrftoken"].value
    posted = client.post(path, {**data, "email": email, "csrfmiddlewaretoken": token})
    return posted, client.get(posted["Location"])


def test_the_page_names_the_address_typed_and_keeps_it_out_of_urls_and_cookies():
    posted, page = _sign_up_and_look(" Grace@Example.COM ")

    assert posted.status_code == 302
    assert posted["Location"] == CHECK_INBOX
    assert page.status_code == 200
    # As we mail it: normalized (the domain in lower case), the local part as typed.
    assert b"We have sent a message to <strong" in page.content
    assert b">Grace@example.com</strong>" in page.content
    assert "grace" not in posted["Location"].lower()
    for morsel in posted.cookies.values():
        assert "grace" not in morsel.value.lower()
    cookie = posted.cookies["mailed_to"]
    assert (cookie["path"], cookie["httponly"], cookie["samesite"]) == (CHECK_INBOX, True, "Lax")
    assert "no-store" in page["Cache-Control"]
    assert "private" in page["Cache-Control"]


@pytest.mark.parametrize("status", ["new", *KNOWN_STATES])
def test_the_same_typed_address_gets_the_same_redirect_and_page_in_every_state(
    make_subscriber, settings, status, django_capture_on_commit_callbacks
):
    """Compared with the answers for an address nobody ever signed up with, typed the
    same way; the stored spelling (lower case here) never shows."""
    settings.SIGNUP_RATE_LIMIT_PER_HOUR = 1_000

    with django_capture_on_commit_callbacks(execute=True):
        unknown = _sign_up_and_look("KNOWN@example.com")
    Subscriber.objects.all().delete()
    if status != "new":
        make_subscriber(email="known@example.com", status=status)
    with django_capture_on_commit_callbacks(execute=True):
        known = _sign_up_and_look("KNOWN@example.com")

    assert _comparable(known[0]) == _comparable(unknown[0])
    assert _comparable(known[1]) == _comparable(unknown[1])
    assert b">KNOWN@example.com</strong>" in known[1].content
    assert b"known@example.com" not in known[1].content


@pytest.mark.parametrize("known", [True, False])
def test_asking_for_the_link_names_the_address_typed_whether_known_or_not(make_subscriber, known):
    if known:
        make_subscriber(email="ada@example.com")

    posted, page = _sign_up_and_look("ada@example.com", "/my-link/", {"website": ""})

    assert posted["Location"] == CHECK_INBOX
    assert b">ada@example.com</strong>" in page.content


def test_the_latest_address_is_named_and_no_other_browser_sees_it():
    client = Client()
    client.post("/", {**SIGNUP, "email": "first@example.com"})
    client.post("/my-link/", {"email": "second@example.com"})

    assert b">second@example.com</strong>" in client.get(CHECK_INBOX).content
    for stranger in (Client(), Client(HTTP_COOKIE="mailed_to=" + "A" * 43)):
        page = stranger.get(CHECK_INBOX)
        assert page.status_code == 200
        assert b"the address you gave" in page.content
        assert b"@example.com" not in page.content
