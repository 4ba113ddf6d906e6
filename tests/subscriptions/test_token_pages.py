"""Pages behind a signed link and the live preview's cost (issue 11, finding 11): token
pages are never cached nor sent on as a Referer, and their forms still work from a
browser that sends `Origin: null` because of it; one visitor's previews take at most
PREVIEW_CPU_SECONDS_PER_HOUR of CPU."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from digest import tasks
from subscriptions import tokens
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


def _path(purpose: str, subscriber_id: int) -> str:
    return tokens.absolute_url(purpose, subscriber_id).removeprefix("https://paperboy.example")


def _assert_private(response) -> None:
    assert "no-store" in response.get("Cache-Control", "")
    assert response.get("Referrer-Policy") == "no-referrer"


def test_token_pages_are_never_cached_nor_sent_as_a_referer(make_subscriber, ingested_papers):
    subscriber = make_subscriber(interests=("anomaly detection",))
    pending = make_subscriber(email="pen@example.com", status=Subscriber.Status.PENDING)
    tasks.dispatch_digests()
    web_copy = re.search(r"https://paperboy\.example(/digest/[^/\s]+/)", mail.outbox[0].body)[1]
    client = Client()

    responses = {
        "confirm page": client.get(_path(tokens.CONFIRM, pending.pk)),
        "manage page": client.get(_path(tokens.MANAGE, subscriber.pk)),
        "manage preview": client.post(
            _path(tokens.MANAGE, subscriber.pk),
            {"interests": "anomaly detection", "preview": "1"},
        ),
        "unsubscribe page": client.get(_path(tokens.UNSUBSCRIBE, subscriber.pk)),
        "web copy": client.get(web_copy),
        "bad confirm link": client.get("/confirm/forged/"),
        "bad manage link": client.get("/manage/forged/"),
        "bad web copy link": client.get("/digest/forged/"),
    }

    for name, response in responses.items():
        assert response.status_code in (200, 400), name
        _assert_private(response)
    # The manage preview links papers elsewhere: the reason for no-referrer.
    assert b'href="https://arxiv.org/abs/' in responses["manage preview"].content


def test_token_forms_work_from_a_browser_that_sends_origin_null(make_subscriber):
    """A page with `Referrer-Policy: no-referrer` makes the browser send `Origin: null`
    with its own form posts, and no Referer."""
    subscriber = make_subscriber(email="ada@example.com", status=Subscriber.Status.PENDING)
    browser = Client(enforce_csrf_checks=True, HTTP_ORIGIN="null")
    confirm_path = _path(tokens.CONFIRM, subscriber.pk)

    page = browser.get(confirm_path)
    shown = re.search(rb'name="signup" value="([^"]*)"', page.content)
    confirmed = browser.post(confirm_path, {"signup": shown[1].decode() if shown else ""})
    saved = browser.post(
        _path(tokens.MANAGE, subscriber.pk),
        {
            "interests": "graph neural networks",
            "frequency": "daily",
            "send_hour": "9",
            "time_zone": "UTC",
            "action": "save",
        },
    )

    assert confirmed.status_code == 200
    _assert_private(confirmed)
    assert b"Saved." in saved.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert [i.text for i in subscriber.interests.all()] == ["graph neural networks"]


ONE_LETTER_INTERESTS = "\n".join("abcdefghijklmnopqrstuvwxyz0123"[:30])


def test_the_live_preview_stops_when_its_cpu_budget_is_spent(
    settings, ingested_papers, monkeypatch
):
    """Each preview is charged its CPU time (here a clock that says 0.4 s each); past
    the budget every preview of that visitor is refused, whatever the request count."""
    settings.PREVIEW_CPU_SECONDS_PER_HOUR = 1
    settings.PREVIEW_RATE_LIMIT_PER_HOUR = 1000
    clock = iter(step * 0.4 for step in range(1000))  # read twice per preview
    monkeypatch.setattr("subscriptions.ratelimit.cpu_clock", lambda: next(clock), raising=False)
    visitor = Client(REMOTE_ADDR="198.51.100.7")
    query = {"interests": ONE_LETTER_INTERESTS}

    statuses = [visitor.get("/preview.json", query).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]  # 0.4 + 0.4 + 0.4 s spent, then no more
    assert cache.get("cpu:preview-ip:198.51.100.7") == 1200  # milliseconds
    # The no-JavaScript preview button draws on the same budget.
    signup = visitor.post("/", {"interests": "anomaly detection", "preview": "1"})
    assert b"Too many previews from your network" in signup.content
    assert b"would have matched" not in signup.content
    # Another visitor has a budget of their own.
    assert Client(REMOTE_ADDR="198.51.100.8").get("/preview.json", query).status_code == 200


def test_a_preview_is_charged_the_cpu_time_it_really_took(settings, ingested_papers):
    settings.PREVIEW_CPU_SECONDS_PER_HOUR = 30
    client = Client(REMOTE_ADDR="198.51.100.9")

    response = client.get(
        reverse("subscriptions:preview_matches"), {"interests": ONE_LETTER_INTERESTS}
    )

    assert response.status_code == 200
    spent = cache.get("cpu:preview-ip:198.51.100.9")
    assert spent is not None and 1 <= spent < 30_000
