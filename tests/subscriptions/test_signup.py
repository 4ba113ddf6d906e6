"""Signup → confirmation email → confirm → active, without revealing who is subscribed."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from subscriptions import tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "Grace@Example.com",
    "interests": "anomaly detection\nlanguage models\n",
    "frequency": "daily",
    "send_hour": "7",
    "time_zone": "Europe/Paris",
    "website": "",
}


def _link_in(message, path: str) -> str:
    match = re.search(rf"https://paperboy\.example(/{path}/[^/\s]+/)", message.body)
    assert match, f"no /{path}/ link in: {message.body}"
    return match.group(1)


def test_the_signup_page_has_a_form_with_csrf_protection(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b'name="interests"' in response.content


def test_signup_confirm_makes_the_subscriber_active_and_sends_the_first_digest(
    ingested_papers, django_capture_on_commit_callbacks
):
    client = Client(enforce_csrf_checks=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/", SIGNUP, HTTP_USER_AGENT="pytest-browser")

    assert response.status_code == 302
    assert response["Location"] == reverse("subscriptions:check_inbox")
    subscriber = Subscriber.objects.get(email__iexact="grace@example.com")
    assert subscriber.status == Subscriber.Status.PENDING
    assert len(mail.outbox) == 1
    confirmation = mail.outbox[0]
    assert confirmation.subject == "Confirm your Paperboy subscription"
    assert "following 2 interests" in confirmation.body
    confirm_path = _link_in(confirmation, "confirm")

    # Opening the link (as a mail scanner would) shows the choices and changes nothing.
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert b"<li>anomaly detection</li><li>language models</li>" in page.content
    assert b"every day\n     at 07:00 (Europe/Paris)" in page.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_path)

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert [i.text for i in subscriber.interests.all()] == ["anomaly detection", "language models"]
    assert (subscriber.time_zone, subscriber.send_hour) == ("Europe/Paris", 7)
    assert subscriber.signup_ip == "127.0.0.1"
    assert subscriber.signup_user_agent == "pytest-browser"
    assert len(mail.outbox) == 2
    assert "Performance Anomaly Detection in Athletics" in mail.outbox[1].body
    assert subscriber.next_digest_at.astimezone().minute == 0  # next one at the local hour


def test_confirming_twice_is_harmless(django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/", SIGNUP)
    confirm_path = _link_in(mail.outbox[0], "confirm")

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(confirm_path).status_code == 200
        assert client.post(confirm_path).status_code == 200

    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


# Random for every request, whoever asks: the CSRF token, and the key under which the
# check-your-inbox page finds the address typed (subscriptions/mailed_to.py).
RANDOM_COOKIES = {"csrftoken", "mailed_to"}


def _comparable(response) -> tuple:
    """A response's status, headers, cookies and body, without what differs on every
    request whoever asks: the Date (and Expires, the same moment on a page never cached),
    random cookies' values and expiry, CSP nonces."""

    def same_every_time(text: str) -> str:
        return re.sub(r"'nonce-[^']+'", "'nonce-…'", text)

    headers = {
        name: same_every_time(value)
        for name, value in response.headers.items()
        if name not in ("Date", "Expires")
    }
    cookies = {
        name: {**morsel, "value": "…" if name in RANDOM_COOKIES else morsel.value}
        | ({"expires": "…"} if name in RANDOM_COOKIES else {})
        for name, morsel in response.cookies.items()
    }
    return response.status_code, headers, cookies, response.content


def _signup_response(email: str) -> tuple:
    """What a browser gets for signing up `email`: the form, then its post."""
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post("/", {**SIGNUP, "email": email, "csrfmiddlewaretoken": token})
    return _comparable(response)


KNOWN_STATES = [
    Subscriber.Status.PENDING,
    Subscriber.Status.ACTIVE,
    Subscriber.Status.UNSUBSCRIBED,
    Subscriber.Status.SUPPRESSED,
]


@pytest.mark.parametrize("status", KNOWN_STATES)
def test_a_known_address_gets_the_same_response_as_a_new_one(
    make_subscriber, status, django_capture_on_commit_callbacks
):
    make_subscriber(email="known@example.com", status=status)

    with django_capture_on_commit_callbacks(execute=True):
        known = _signup_response("KNOWN@example.com")
        new = _signup_response("stranger@example.com")

    assert known == new
    assert known[0] == 302
    assert Subscriber.objects.filter(email__iexact="known@example.com").count() == 1


# Committed for real, so each signup's task runs (inline) inside its own request.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", KNOWN_STATES)
def test_the_responses_are_the_same_when_sending_mail_fails(make_subscriber, settings, status):
    settings.EMAIL_BACKEND = "tests.support.FailingEmailBackend"
    from config.celery import app

    app.conf.task_eager_propagates = False
    make_subscriber(email="known@example.com", status=status)

    known = _signup_response("known@example.com")
    new = _signup_response("stranger@example.com")

    assert known == new


def test_an_active_subscriber_signing_up_again_is_told_by_email_and_nothing_changes(
    make_subscriber, django_capture_on_commit_callbacks
):
    subscriber = make_subscriber(
        email="known@example.com", interests=("graph neural networks",), time_zone="Asia/Tokyo"
    )

    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/", {**SIGNUP, "email": "known@example.com"})

    assert [i.text for i in subscriber.interests.all()] == ["graph neural networks"]
    subscriber.refresh_from_db()
    assert (subscriber.time_zone, subscriber.send_hour) == ("Asia/Tokyo", 8)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "You already get Paperboy digests"


def test_an_invalid_interest_is_refused_with_the_reason_next_to_its_line():
    response = Client().post("/", {**SIGNUP, "interests": "transformers\n" + "x" * 250})

    assert response.status_code == 200
    assert b"Line 2: An interest can be at most 200 characters" in response.content
    assert not Subscriber.objects.exists()


def test_a_filled_honeypot_gets_the_same_answer_and_no_row():
    response = Client().post("/", {**SIGNUP, "website": "http://spam.example"})

    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_too_many_signups_from_one_address_are_refused(settings):
    settings.SIGNUP_RATE_LIMIT_PER_HOUR = 10
    client = Client()
    statuses = [
        client.post("/", {**SIGNUP, "email": f"r{n}@example.com"}).status_code for n in range(11)
    ]

    assert statuses[:10] == [302] * 10
    assert statuses[10] == 429


def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_address(settings):
    settings.SIGNUP_RATE_LIMIT_PER_HOUR = 1
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()

    def post(forwarded_for: str) -> int:
        return client.post("/", SIGNUP, HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    # The client may prepend anything; only the proxy's own entry counts.
    assert post("1.1.1.1, 203.0.113.7") == 302
    assert post("9.9.9.9, 203.0.113.7") == 429
    assert post("203.0.113.8") == 302
    # The latest signup, waiting for its confirmation.
    assert Subscriber.objects.get().unconfirmed_signup["ip"] == "203.0.113.8"


def test_a_confirmation_link_made_before_leaving_cannot_resubscribe(
    make_subscriber, django_capture_on_commit_callbacks
):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    old_link = tokens.absolute_url(tokens.CONFIRM, subscriber.pk).removeprefix(
        "https://paperboy.example"
    )
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(old_link)
    unsubscribe_link = tokens.absolute_url(tokens.UNSUBSCRIBE, subscriber.pk).removeprefix(
        "https://paperboy.example"
    )
    client.post(unsubscribe_link)

    response = client.post(old_link)

    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_a_tampered_or_wrong_purpose_token_is_refused(make_subscriber):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    unsubscribe_token = tokens.make_token(tokens.UNSUBSCRIBE, subscriber.pk)

    wrong_purpose = Client().post(f"/confirm/{unsubscribe_token}/")
    tampered = Client().post(f"/confirm/{unsubscribe_token[:-2]}xx/")

    assert wrong_purpose.status_code == 400
    assert tampered.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING


def test_someone_who_left_can_sign_up_again_and_confirm(
    make_subscriber, django_capture_on_commit_callbacks
):
    subscriber = make_subscriber(
        email="back@example.com",
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=timezone.now() - timedelta(days=1),
    )
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/", {**SIGNUP, "email": "back@example.com"})
    confirm_path = _link_in(mail.outbox[0], "confirm")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_path)

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert [i.text for i in subscriber.interests.all()] == ["anomaly detection", "language models"]


def test_one_address_is_sent_at_most_three_account_emails_an_hour(
    django_capture_on_commit_callbacks,
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        responses = [client.post("/", SIGNUP).status_code for _ in range(5)]

    assert responses == [302] * 5
    assert len(mail.outbox) == 3
