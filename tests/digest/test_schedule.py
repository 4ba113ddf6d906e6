"""Digests go out at the subscriber's local hour, daily or on Mondays, across DST changes,
once per period; a change of schedule never skips the digest of the current period."""

from datetime import UTC, date, datetime

import pytest

from digest.schedule import (
    last_moment_before,
    next_send_time,
    period_of,
    period_start,
    send_time_after_change,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_digest_is_next_sent_at_the_local_hour():
    # 10:00 UTC is 11:00 in Paris (winter): 08:00 Paris tomorrow is 07:00 UTC.
    assert next_send_time(utc(2026, 11, 28, 10), "daily", "Europe/Paris", 8) == utc(2026, 11, 29, 7)


def test_before_the_hour_the_digest_goes_out_today_unless_today_has_one():
    # 06:00 Paris on the 28th: 08:00 today, unless today's digest went out already
    # (the first digest, sent on confirmation), then the 29th.
    assert next_send_time(utc(2026, 11, 28, 5), "daily", "Europe/Paris", 8) == utc(2026, 11, 28, 7)
    assert next_send_time(
        utc(2026, 11, 28, 5), "daily", "Europe/Paris", 8, taken={"2026-11-28"}
    ) == utc(2026, 11, 29, 7)


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


# After a change of schedule (preferences saved, pause, resume): what the subscriber
# expects, in their zone. Europe/Paris is UTC+1 in winter, UTC+2 in summer.
@pytest.mark.parametrize(
    ("case", "now", "frequency", "hour", "taken", "expected"),
    [
        (
            "saved at 06:00 with an 08:00 hour: today",
            utc(2026, 11, 28, 5),
            "daily",
            8,
            set(),
            utc(2026, 11, 28, 7),
        ),
        (
            "saved at 06:00, today's digest already out: tomorrow",
            utc(2026, 11, 28, 5),
            "daily",
            8,
            {"2026-11-28"},
            utc(2026, 11, 29, 7),
        ),
        (
            "hour moved from 08:00 to 18:00 at 10:00, today's not out yet: 18:00 today",
            utc(2026, 11, 28, 9),
            "daily",
            18,
            set(),
            utc(2026, 11, 28, 17),
        ),
        (
            "hour moved to 18:00 after today's digest went out: tomorrow 18:00",
            utc(2026, 11, 28, 9),
            "daily",
            18,
            {"2026-11-28"},
            utc(2026, 11, 29, 17),
        ),
        (
            "saved at 10:00 with an 08:00 hour, today's not out (dispatch late): due at once",
            utc(2026, 11, 28, 9),
            "daily",
            8,
            set(),
            utc(2026, 11, 28, 7),
        ),
        (
            "weekly, saved on Monday 06:00 before the 08:00 digest: this Monday",
            utc(2026, 11, 30, 5),
            "weekly",
            8,
            set(),
            utc(2026, 11, 30, 7),
        ),
        (
            "weekly, saved on Tuesday after Monday's digest: next Monday",
            utc(2026, 12, 1, 9),
            "weekly",
            8,
            {"2026-W49"},
            utc(2026, 12, 7, 7),
        ),
        (
            "daily on the spring-forward day (29 March 2026), 06:00 CEST: 08:00 CEST",
            utc(2026, 3, 29, 4),
            "daily",
            8,
            set(),
            utc(2026, 3, 29, 6),
        ),
        (
            "daily on the autumn day (25 October 2026), 06:00 CET: 08:00 CET",
            utc(2026, 10, 25, 5),
            "daily",
            8,
            set(),
            utc(2026, 10, 25, 7),
        ),
        (
            "weekly over the spring change: Monday 30 March, 08:00 CEST",
            utc(2026, 3, 28, 12),
            "weekly",
            8,
            {"2026-W13"},
            utc(2026, 3, 30, 6),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_change_of_schedule_never_skips_the_current_period(
    case, now, frequency, hour, taken, expected
):
    assert send_time_after_change(now, frequency, "Europe/Paris", hour, taken) == expected


def test_a_pause_until_a_day_resumes_at_that_days_hour():
    end = last_moment_before(date(2026, 12, 5), "Europe/Paris")
    now = utc(2026, 11, 28, 5)

    assert send_time_after_change(now, "daily", "Europe/Paris", 8, set(), end) == utc(
        2026, 12, 5, 7
    )
    # Weekly: the first Monday on or after that day.
    assert send_time_after_change(now, "weekly", "Europe/Paris", 8, set(), end) == utc(
        2026, 12, 7, 7
    )


def test_a_period_starts_at_local_midnight_or_on_monday():
    tuesday_evening = utc(2026, 12, 1, 22, 30)  # already Wednesday in Tokyo

    assert period_start(tuesday_evening, "daily", "Europe/Paris") == utc(2026, 11, 30, 23)
    assert period_start(tuesday_evening, "daily", "Asia/Tokyo") == utc(2026, 12, 1, 15)
    assert period_start(tuesday_evening, "weekly", "Europe/Paris") == utc(2026, 11, 29, 23)
