"""The signup page is rendered once per process and each visitor's CSRF token put in
its place (subscriptions/views.py): the page is the template's own rendering, the same
for everyone but the token, nothing of a visitor's is kept, and CSRF, the CSP header
and the cookie work as before."""

import re

import pytest
from django.contrib.auth.models import User
from django.middleware.csrf import _unmask_cipher_token
from django.shortcuts import render
from django.test import Client, RequestFactory
from django.urls import reverse

from subscriptions import views
from subscriptions.forms import SignupForm

pytestmark = pytest.mark.django_db

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _render_again():
    views._blank_signup = None  # each test renders the page itself first
    yield
    views._blank_signup = None


def _without_token(page: bytes) -> bytes:
    assert len(TOKEN.findall(page)) == 1
    return TOKEN.sub(b'name="csrfmiddlewaretoken" value="TOKEN"', page)


def test_the_page_is_the_templates_own_rendering_with_the_visitors_token():
    request = RequestFactory().get("/")
    served = views.signup(request).content
    context = {"form": SignupForm(), "time_zones": SignupForm.time_zone_names()}
    rendered = render(request, "subscriptions/signup.html", context).content

    assert _without_token(served) == _without_token(rendered)
    # Both are maskings of the one secret this request's cookie will carry.
    secret = request.META["CSRF_COOKIE"]
    for page in (served, rendered):
        assert _unmask_cipher_token(TOKEN.search(page).group(1).decode()) == secret


def test_every_visitor_gets_the_same_page_but_their_own_token(client):
    staff = User.objects.create_superuser("staffer-qx", "qx@example.com", "a long password 42")
    anonymous, again, logged_in = Client(), Client(), Client()
    logged_in.force_login(staff)
    pages = [c.get("/") for c in (anonymous, again, logged_in, anonymous)]

    assert {p.status_code for p in pages} == {200}
    assert len({_without_token(p.content) for p in pages}) == 1
    # Nothing of the staff member's (the random token may hold any two letters).
    assert b"staffer" not in _without_token(pages[2].content)
    assert b"qx@example.com" not in pages[2].content
    tokens = [TOKEN.search(p.content).group(1) for p in pages]
    assert len(set(tokens)) == 4  # masked afresh each time
    for page in pages:
        assert page["Content-Type"] == "text/html; charset=utf-8"
        assert "Content-Security-Policy" in page
        assert "Cookie" in page["Vary"]
    assert "csrftoken" in pages[0].cookies and "csrftoken" in pages[2].cookies


def test_a_head_request_gets_the_same_headers_and_no_body(client):
    response = client.head("/")

    assert response.status_code == 200 and response.content == b""
    assert "Content-Security-Policy" in response and "csrftoken" in response.cookies


def test_a_visitors_token_is_theirs_alone_and_csrf_is_still_enforced():
    ada, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    ada_token = TOKEN.search(ada.get("/").content).group(1).decode()
    bob.get("/")
    url = reverse("subscriptions:preview_matches")
    text = {"interests": "anomaly detection"}

    assert ada.post(url, text).status_code == 403
    assert bob.post(url, text, HTTP_X_CSRFTOKEN=ada_token).status_code == 403
    assert ada.post(url, text, HTTP_X_CSRFTOKEN=ada_token).status_code == 200
    assert ada.post("/", {**text, "email": "ada@example.com"}).status_code == 403
    signed_up = ada.post(
        "/",
        {
            **text,
            "email": "ada@example.com",
            "frequency": "daily",
            "send_hour": "8",
            "time_zone": "UTC",
            "csrfmiddlewaretoken": ada_token,
        },
    )
    assert signed_up.status_code == 302


def test_a_posted_form_is_rendered_for_its_visitor_and_never_kept():
    visitor = Client()
    visitor.get("/")
    answered = visitor.post("/", {"email": "grace@example.com", "interests": ""})
    blank = Client().get("/")

    assert answered.status_code == 200
    assert b'value="grace@example.com"' in answered.content
    assert b"grace@example.com" not in blank.content


def test_the_page_holds_exactly_one_token_place(settings, monkeypatch):
    monkeypatch.setattr(views, "render_to_string", lambda *args, **kwargs: "no token here")

    with pytest.raises(RuntimeError, match="exactly one"):
        views._render_blank_signup()
