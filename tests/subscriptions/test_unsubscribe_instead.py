"""The unsubscribe page offers fewer digests instead (issue 12): "Pause for 4 weeks",
and "Weekly instead" to a daily subscriber, each its own POST with a `choice`; a POST
without one (the RFC 8058 one-click POST, the page's own button) still unsubscribes."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.utils.http import urlencode

from digest import sending
from digest.models import Delivery
from subscriptions import tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

# Tuesday 30 June 2026, 23:30 UTC: already Wednesday 1 July in Paris (UTC+2).
NOW = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


def _path(subscriber: Subscriber) -> str:
    return tokens.absolute_url(tokens.UNSUBSCRIBE, subscriber.pk).removeprefix(
        "https://paperboy.example"
    )


def _choices(page: bytes) -> list[str]:
    """The page's buttons, each as "label=the choice it posts" (nothing after = for none)."""
    buttons = re.findall(r'<button type="submit"([^>]*)>([^<]+)</button>', page.decode())
    values = [re.search(r'value="([^"]*)"', attrs) for attrs, _ in buttons]
    return [
        f"{label}={value[1] if value else ''}"
        for (_, label), value in zip(buttons, values, strict=True)
    ]


def _text(response) -> str:
    """The page's text with its whitespace as a reader sees it: single spaces."""
    return " ".join(response.content.decode().split())


@pytest.fixture
def parisian(make_subscriber) -> Subscriber:
    return make_subscriber(time_zone="Europe/Paris", send_hour=8, due=False)


def test_the_page_offers_a_pause_and_weekly_digests_to_a_daily_subscriber(parisian):
    page = Client().get(_path(parisian))

    assert page.status_code == 200
    assert _choices(page.content) == [
        "Unsubscribe=",
        "Pause for 4 weeks=pause",
        "Weekly instead=weekly",
    ]
    parisian.refresh_from_db()
    assert (parisian.status, parisian.paused_until) == (Subscriber.Status.ACTIVE, None)


@pytest.mark.parametrize(
    ("fields", "offered"),
    [
        ({"frequency": Subscriber.Frequency.WEEKLY}, ["Unsubscribe=", "Pause for 4 weeks=pause"]),
        ({"status": Subscriber.Status.UNSUBSCRIBED}, ["Unsubscribe="]),
        ({"status": Subscriber.Status.PENDING}, ["Unsubscribe="]),
        ({"status": Subscriber.Status.SUPPRESSED}, ["Unsubscribe="]),
    ],
)
def test_only_what_makes_sense_is_offered(make_subscriber, fields, offered):
    subscriber = make_subscriber(**fields)

    assert _choices(Client().get(_path(subscriber)).content) == offered


def test_pausing_stops_digests_for_4_weeks_from_the_subscribers_own_today(parisian):
    with time_machine.travel(NOW, tick=False):
        response = Client(enforce_csrf_checks=True).post(_path(parisian), {"choice": "pause"})

    assert response.status_code == 200
    parisian.refresh_from_db()
    assert parisian.status == Subscriber.Status.ACTIVE
    # 1 July in Paris (30 June in UTC) + 28 days; the first digest that morning at 08:00.
    assert parisian.paused_until == date(2026, 7, 29)
    assert parisian.next_digest_at == datetime(2026, 7, 29, 6, tzinfo=UTC)
    page = _text(response)
    assert "Your digests are paused" in page
    assert "no digest before Wednesday 29 July 2026" in page
    assert "the next one comes Wed 29 Jul, 08:00 (Europe/Paris)" in page
    assert "no-store" in response["Cache-Control"]


def test_weekly_instead_after_todays_digest_waits_for_monday(parisian, ingested_papers):
    wednesday_eight = datetime(2026, 7, 1, 6, tzinfo=UTC)
    parisian.next_digest_at = wednesday_eight
    parisian.save()
    with time_machine.travel(wednesday_eight, tick=False):
        sending.claim(parisian.pk, wednesday_eight)  # this morning's digest
    assert Delivery.objects.get().period == "2026-07-01"

    with time_machine.travel(datetime(2026, 7, 1, 9, tzinfo=UTC), tick=False):
        response = Client(enforce_csrf_checks=True).post(_path(parisian), {"choice": "weekly"})

    assert response.status_code == 200
    parisian.refresh_from_db()
    assert (parisian.status, parisian.frequency) == ("active", Subscriber.Frequency.WEEKLY)
    assert [i.text for i in parisian.interests.all()] == ["anomaly detection"]
    # This week had its digests: the first weekly one is next Monday's, not one more now.
    assert parisian.next_digest_at == datetime(2026, 7, 6, 6, tzinfo=UTC)
    page = _text(response)
    assert "You now get one digest a week" in page
    assert "Every Monday at 08:00 (Europe/Paris)" in page
    assert "The next one comes Mon 6 Jul, 08:00." in page


def test_the_one_click_post_still_unsubscribes_a_daily_subscriber(parisian):
    response = Client(enforce_csrf_checks=True).post(
        _path(parisian),
        urlencode({"List-Unsubscribe": "One-Click"}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not response.has_header("Location")
    assert b"You are unsubscribed" in response.content
    parisian.refresh_from_db()
    assert parisian.status == Subscriber.Status.UNSUBSCRIBED
    assert (parisian.frequency, parisian.paused_until) == (Subscriber.Frequency.DAILY, None)


@pytest.mark.parametrize(
    ("fields", "choice"),
    [
        ({"frequency": Subscriber.Frequency.WEEKLY}, "weekly"),  # not offered to them
        ({}, "something else"),
        ({"status": Subscriber.Status.UNSUBSCRIBED}, "pause"),  # a page left open
    ],
)
def test_a_choice_the_page_did_not_offer_unsubscribes(make_subscriber, fields, choice):
    subscriber = make_subscriber(**fields)

    response = Client().post(_path(subscriber), {"choice": choice})

    assert b"You are unsubscribed" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.paused_until is None


def test_unsubscribing_after_all_from_the_confirmation(parisian):
    client = Client()
    paused = client.post(_path(parisian), {"choice": "pause"})
    assert "Unsubscribe after all=" in _choices(paused.content)

    response = client.post(_path(parisian))  # that button posts no choice

    assert b"You are unsubscribed" in response.content
    parisian.refresh_from_db()
    assert parisian.status == Subscriber.Status.UNSUBSCRIBED
