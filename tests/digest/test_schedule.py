"""Digests go out at the subscriber's local hour, daily or on Mondays, across DST changes."""

from datetime import UTC, datetime

from digest.schedule import next_send_time, period_of


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_digest_is_next_sent_at_the_local_hour():
    # 10:00 UTC is 11:00 in Paris (winter): 08:00 Paris tomorrow is 07:00 UTC.
    assert next_send_time(utc(2026, 11, 28, 10), "daily", "Europe/Paris", 8) == utc(2026, 11, 29, 7)


def test_before_the_hour_the_digest_still_waits_for_the_next_period():
    # At 06:00 Paris on the 28th the 28th's digest already went out (the first
    # digest on confirmation), so the next one is on the 29th.
    assert next_send_time(utc(2026, 11, 28, 5), "daily", "Europe/Paris", 8) == utc(2026, 11, 29, 7)


def test_a_weekly_digest_goes_out_on_monday():
    # Saturday 28 November 2026 -> Monday 30 November, 09:00 New York (14:00 UTC).
    sent = next_send_time(utc(2026, 11, 28, 12), "weekly", "America/New_York", 9)
    assert sent == utc(2026, 11, 30, 14)
    assert sent.weekday() == 0


def test_the_local_hour_holds_across_the_spring_daylight_saving_change():
    # Europe/Berlin moves to summer time on Sunday 29 March 2026.
    before = next_send_time(utc(2026, 3, 28, 12), "daily", "Europe/Berlin", 8)
    after = next_send_time(before, "daily", "Europe/Berlin", 8)
    assert before == utc(2026, 3, 29, 6)  # 08:00 CEST
    assert after == utc(2026, 3, 30, 6)
    assert next_send_time(utc(2026, 3, 27, 12), "daily", "Europe/Berlin", 8) == utc(
        2026, 3, 28, 7
    )  # 08:00 CET


def test_the_local_hour_holds_across_the_autumn_daylight_saving_change():
    # America/New_York falls back on Sunday 1 November 2026.
    assert next_send_time(utc(2026, 10, 31, 20), "daily", "America/New_York", 7) == utc(
        2026, 11, 1, 12
    )  # 07:00 EST
    assert next_send_time(utc(2026, 10, 30, 20), "daily", "America/New_York", 7) == utc(
        2026, 10, 31, 11
    )  # 07:00 EDT


def test_an_hour_skipped_by_daylight_saving_is_sent_an_hour_later():
    # 02:00 does not exist in Berlin on 29 March 2026; it is sent at 03:00 CEST.
    assert next_send_time(utc(2026, 3, 28, 12), "daily", "Europe/Berlin", 2) == utc(2026, 3, 29, 1)


def test_periods_are_local_days_or_iso_weeks():
    late_evening_utc = utc(2026, 11, 28, 23, 30)
    assert period_of(late_evening_utc, "daily", "UTC") == "2026-11-28"
    assert period_of(late_evening_utc, "daily", "Asia/Tokyo") == "2026-11-29"
    assert period_of(late_evening_utc, "weekly", "UTC") == "2026-W48"
