"""When a subscriber's digests are due, in their own time zone.

Pure functions on aware datetimes. Daily digests go out every day at the
subscriber's local hour, weekly ones on Mondays at that hour. Times are
computed in the local zone and stored in UTC, so a daylight-saving change
moves nothing: 08:00 stays 08:00 local. A local hour that does not exist on a
spring-forward day is sent one hour later (zoneinfo's fold=0 rule).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAILY = "daily"
WEEKLY = "weekly"
WEEKLY_DAY = 0  # Monday


def period_of(moment: datetime, frequency: str, tz_name: str) -> str:
    """The digest period that `moment` falls in: "2026-11-28" or "2026-W48"."""
    local_day = moment.astimezone(ZoneInfo(tz_name)).date()
    if frequency == WEEKLY:
        year, week, _ = local_day.isocalendar()
        return f"{year}-W{week:02d}"
    return local_day.isoformat()


def _send_days(start: date, frequency: str):
    day = start
    while True:
        if frequency != WEEKLY or day.weekday() == WEEKLY_DAY:
            yield day
        day += timedelta(days=1)


def next_send_time(after: datetime, frequency: str, tz_name: str, hour: int) -> datetime:
    """The first send time strictly after `after` that falls in a later period.

    "Later period" keeps one digest per day (or week): a subscriber whose
    first digest went out this morning gets the next one tomorrow, not again
    at their usual hour today.
    """
    zone = ZoneInfo(tz_name)
    current_period = period_of(after, frequency, tz_name)
    for day in _send_days(after.astimezone(zone).date(), frequency):
        candidate = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
        if candidate > after and period_of(candidate, frequency, tz_name) != current_period:
            return candidate
    raise AssertionError("unreachable: _send_days is endless")


def last_moment_before(day: date, tz_name: str) -> datetime:
    """The instant before local midnight starting `day`, in UTC.

    Scheduling "after" it gives the first send time on `day` itself: what a
    pause until `day` needs.
    """
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(tz_name)).astimezone(UTC)
    return midnight - timedelta(microseconds=1)
