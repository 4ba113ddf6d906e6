"""Signing up an address again changes nothing of it before the new confirmation is
pressed (issue 11, finding 12); then the page that was shown is what is confirmed."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

STRANGER = {
    "email": "grace@example.com",
    "interests": "buy cheap pills\nvisit spam.example now",
    "frequency": "weekly",
    "send_hour": "3",
    "time_zone": "Asia/Tokyo",
    "categories": ["hep"],
    "website": "",
}


def _confirm_path() -> str:
    return re.search(r"https://paperboy\.example(/confirm/[^/\s]+/)", mail.outbox[-1].body)[1]


def _fingerprint(page) -> str:
    shown = re.search(rb'name="signup" value="([^"]*)"', page.content)
    return shown[1].decode() if shown else ""


def _stored(subscriber: Subscriber) -> tuple:
    subscriber.refresh_from_db()
    return (
        [i.text for i in subscriber.interests.all()],
        subscriber.frequency,
        subscriber.send_hour,
        subscriber.time_zone,
        subscriber.categories,
        subscriber.signup_ip,
    )


@pytest.mark.parametrize("status", [Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED])
def test_a_re_signup_keeps_the_stored_choices_until_it_is_confirmed(
    make_subscriber, django_capture_on_commit_callbacks, status
):
    subscriber = make_subscriber(
        email="grace@example.com",
        status=status,
        interests=("anomaly detection",),
        time_zone="Europe/Paris",
        send_hour=7,
        signup_ip="192.0.2.1",
        unsubscribed_at=timezone.now() - timedelta(days=1)
        if status == Subscriber.Status.UNSUBSCRIBED
        else None,
    )
    before = _stored(subscriber)
    client = Client(REMOTE_ADDR="203.0.113.5")

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/", STRANGER).status_code == 302

    assert _stored(subscriber) == before
    assert subscriber.status == status
    # The confirmation page shows what confirming would bring...
    page = client.get(_confirm_path())
    assert b"<li>buy cheap pills</li><li>visit spam.example now</li>" in page.content
    assert b"every Monday\n     at 03:00 (Asia/Tokyo)" in page.content
    assert _stored(subscriber) == before

    # ...and pressing its button brings it.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_confirm_path(), {"signup": _fingerprint(page)})

    assert _stored(subscriber) == (
        ["buy cheap pills", "visit spam.example now"],
        "weekly",
        3,
        "Asia/Tokyo",
        ["hep"],
        "203.0.113.5",
    )
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.unconfirmed_signup is None


def test_a_signup_that_came_after_the_page_was_shown_is_not_confirmed_unseen(
    make_subscriber, django_capture_on_commit_callbacks
):
    make_subscriber(email="grace@example.com", status=Subscriber.Status.PENDING)
    owner = Client()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/", {**STRANGER, "interests": "anomaly detection", "categories": []})
    page = owner.get(_confirm_path())
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/", STRANGER)  # someone else, meanwhile

    response = owner.post(_confirm_path(), {"signup": _fingerprint(page)})

    assert response.status_code == 409
    assert b"signed up again, with other choices" in response.content
    assert b"<li>buy cheap pills</li>" in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
