"""The whole way, with real parts: a feed served over HTTP, ingestion, matching, a
real SMTP conversation with a local server (aiosmtpd) through Paperboy's SMTP
backend (config/smtp.py), and the received message parsed and its links followed on
the site."""

import re
import time
from email import message_from_bytes, policy

import pytest
import requests
from django.utils import timezone

from digest import tasks
from digest.models import Delivery, Source
from subscriptions.models import Subscriber
from tests.support import Route, serve

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_paper_goes_from_a_feed_to_an_inbox_and_every_link_works(
    live_server, settings, smtp_inbox, fixture_bytes, make_subscriber
):
    settings.SITE_URL = live_server.url
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]  # where the feed server listens
    feed = Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"), etag='"feed-1"')
    with serve() as server:
        Source.objects.all().delete()
        Source.objects.create(name="arXiv cs.LG", url=server.url("/rss/cs.LG", feed))
        tasks.fetch_all_sources.delay()
    subscriber = make_subscriber(email="grace@example.com", interests=("anomaly detection",))

    tasks.dispatch_digests.delay()

    deadline = time.monotonic() + 10
    while not smtp_inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp_inbox.messages) == 1
    sender, recipients, raw = smtp_inbox.messages[0]
    assert (sender, recipients) == ("digest@paperboy.localhost", ["grace@example.com"])
    message = message_from_bytes(raw, policy=policy.default)
    assert " ".join(message["Subject"].split()) == (
        "2 new papers on your topics: Performance Anomaly Detection in Athletics: A Benchmarking …"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].startswith("Paperboy digest")
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert message["Message-ID"] == delivery.esp_message_id
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Performance Anomaly Detection in Athletics" in body.replace("<mark>", "").replace(
            "</mark>", ""
        )
        assert "Focus Session" not in body  # no anomaly detection in it
    assert 'style="' in html and "<mark" in html  # CSS inlined, matched words marked

    links = set(re.findall(rf"{re.escape(live_server.url)}/[^\s<>\"]+", text + html))
    kinds = {re.match(rf"{re.escape(live_server.url)}/(\w+)/", link).group(1) for link in links}
    assert kinds >= {"digest", "manage", "unsubscribe"}
    for link in links:
        assert requests.get(link, timeout=10).status_code == 200, link

    one_click = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    response = requests.post(
        one_click, data={"List-Unsubscribe": "One-Click"}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at <= timezone.now()
