"""Editing a schedule, pausing or resuming never skips the digest still due today."""

from datetime import UTC, date, datetime, timedelta

import pytest

from digest import sending
from digest.models import Delivery
from subscriptions import services

pytestmark = pytest.mark.django_db

# Saturday 28 November 2026; Paris is UTC+1.
SIX_IN_PARIS = datetime(2026, 11, 28, 5, tzinfo=UTC)
EIGHT_IN_PARIS = datetime(2026, 11, 28, 7, tzinfo=UTC)
TOMORROW_EIGHT = EIGHT_IN_PARIS + timedelta(days=1)


@pytest.fixture
def reader(make_subscriber):
    return make_subscriber(time_zone="Europe/Paris", send_hour=8, due=False)


def _preferences(subscriber, **changes) -> services.Preferences:
    return services.Preferences(**{**services.preferences_of(subscriber).__dict__, **changes})


def test_saving_preferences_before_the_send_hour_keeps_todays_digest(reader):
    services.update_preferences(reader, _preferences(reader), now=SIX_IN_PARIS)

    assert reader.next_digest_at == EIGHT_IN_PARIS


def test_saving_after_todays_digest_went_out_waits_for_tomorrow(reader, ingested_papers):
    reader.next_digest_at = EIGHT_IN_PARIS
    reader.save()
    sending.claim(reader.pk, EIGHT_IN_PARIS)  # today's digest

    services.update_preferences(
        reader, _preferences(reader), now=EIGHT_IN_PARIS + timedelta(hours=2)
    )

    assert reader.next_digest_at == TOMORROW_EIGHT


def test_moving_the_hour_later_today_sends_today(reader):
    services.update_preferences(
        reader, _preferences(reader, send_hour=18), now=EIGHT_IN_PARIS + timedelta(hours=2)
    )

    assert reader.next_digest_at == datetime(2026, 11, 28, 17, tzinfo=UTC)


def test_resuming_at_six_with_an_eight_oclock_hour_sends_at_eight_today(reader):
    services.pause(reader, date(2026, 12, 20), now=SIX_IN_PARIS - timedelta(days=3))
    assert reader.next_digest_at == datetime(2026, 12, 20, 7, tzinfo=UTC)

    services.resume(reader, now=SIX_IN_PARIS)

    assert reader.next_digest_at == EIGHT_IN_PARIS


def test_pausing_until_tomorrow_skips_today_only(reader):
    services.pause(reader, date(2026, 11, 29), now=SIX_IN_PARIS)

    assert reader.next_digest_at == TOMORROW_EIGHT


def test_switching_to_weekly_on_monday_morning_keeps_that_mondays_digest(reader):
    monday_six = datetime(2026, 11, 30, 5, tzinfo=UTC)

    services.update_preferences(reader, _preferences(reader, frequency="weekly"), now=monday_six)

    assert reader.next_digest_at == datetime(2026, 11, 30, 7, tzinfo=UTC)
    assert not Delivery.objects.exists()
