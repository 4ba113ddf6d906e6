"""One-click unsubscribe per RFC 8058, and a GET that never unsubscribes."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.http import urlencode

from digest import tasks
from subscriptions import tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def _path(subscriber: Subscriber) -> str:
    return tokens.absolute_url(tokens.UNSUBSCRIBE, subscriber.pk).removeprefix(
        "https://paperboy.example"
    )


def _one_click_posts(client: Client, path: str):
    form = client.post(
        path,
        urlencode({"List-Unsubscribe": "One-Click"}),
        content_type="application/x-www-form-urlencoded",
    )
    multipart = client.post(path, {"List-Unsubscribe": "One-Click"})  # multipart/form-data
    return form, multipart


def test_the_one_click_post_needs_no_cookie_or_csrf_token_and_answers_200(make_subscriber):
    subscriber = make_subscriber()
    client = Client(enforce_csrf_checks=True)

    form, multipart = _one_click_posts(client, _path(subscriber))

    for response in (form, multipart):
        assert response.status_code == 200
        assert not response.has_header("Location")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    assert subscriber.next_digest_at is None


def test_unsubscribing_again_is_harmless(make_subscriber):
    subscriber = make_subscriber()
    client = Client(enforce_csrf_checks=True)
    _one_click_posts(client, _path(subscriber))
    subscriber.refresh_from_db()
    first_time = subscriber.unsubscribed_at

    form, _ = _one_click_posts(client, _path(subscriber))

    assert form.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at == first_time


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_link_changes_nothing(make_subscriber, method):
    subscriber = make_subscriber()

    response = getattr(Client(), method)(_path(subscriber))

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_the_link_still_works_after_31_days_and_the_next_run_sends_nothing(
    make_subscriber, ingested_papers
):
    subscriber = make_subscriber()
    path = _path(subscriber)

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = Client(enforce_csrf_checks=True).post(path)
        tasks.dispatch_digests()

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert mail.outbox == []


def test_a_confirm_token_does_not_work_on_the_unsubscribe_url(make_subscriber):
    subscriber = make_subscriber()
    confirm_token = tokens.make_token(tokens.CONFIRM, subscriber.pk)

    response = Client().post(f"/unsubscribe/{confirm_token}/")

    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_a_suppressed_address_stays_suppressed(make_subscriber):
    subscriber = make_subscriber(status=Subscriber.Status.SUPPRESSED)

    Client().post(_path(subscriber))

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUPPRESSED
