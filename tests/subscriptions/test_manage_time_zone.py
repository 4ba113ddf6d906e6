"""The manage page tells the next digest by the subscriber's own clock, and names the
zone (issue 12): 08:00 in Paris, not 06:00 UTC."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from tests.subscriptions.test_manage import form_data, manage_url

pytestmark = pytest.mark.django_db

# Wednesday 1 July 2026, 03:00 UTC; Paris is UTC+2 in summer, Tokyo UTC+9.
NOW = datetime(2026, 7, 1, 3, tzinfo=UTC)


def _intro(page: bytes) -> str:
    return re.search(r'<section class="intro">(.*?)</section>', page.decode(), re.S)[1]


def test_the_next_digest_is_shown_in_the_subscribers_time_zone(client, make_subscriber):
    subscriber = make_subscriber(time_zone="Europe/Paris", send_hour=8)
    subscriber.next_digest_at = datetime(2026, 7, 1, 6, tzinfo=UTC)
    subscriber.save()

    with time_machine.travel(NOW, tick=False):
        intro = _intro(client.get(manage_url(subscriber)).content)

    assert "next digest Wed 1 Jul, 08:00 (Europe/Paris)" in intro
    assert "06:00" not in intro
    assert "UTC" not in intro


def test_after_saving_another_zone_the_next_digest_is_told_in_that_one(client, make_subscriber):
    subscriber = make_subscriber(time_zone="Europe/Paris")

    with time_machine.travel(NOW, tick=False):
        response = client.post(manage_url(subscriber), form_data(frequency="daily"))

    # 18:00 in Tokyo (form_data's) is 09:00 UTC; it is noon there now.
    assert "next digest Wed 1 Jul, 18:00 (Asia/Tokyo)" in _intro(response.content)
