"""When a subscriber's digests are due, in their own time zone.

Pure functions on aware datetimes. Daily digests go out every day at the
subscriber's local hour, weekly ones on Mondays at that hour. Times are
computed in the local zone and stored in UTC, so a daylight-saving change
moves nothing: 08:00 stays 08:00 local. A local hour that does not exist on a
spring-forward day is sent one hour later (zoneinfo's fold=0 rule).

One digest per period: a period is a local day ("2026-11-28") or an ISO week
("2026-W48"), and a period that already has a digest (`taken`) is never
scheduled again. That rule alone decides what comes next, after a digest went
out and after the subscriber changed their schedule alike, so an edit never
skips the digest of the current period while it is still to come.
"""

from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAILY = "daily"
WEEKLY = "weekly"
WEEKLY_DAY = 0  # Monday

_INSTANT = timedelta(microseconds=1)


def period_of(moment: datetime, frequency: str, tz_name: str) -> str:
    """The digest period that `moment` falls in: "2026-11-28" or "2026-W48"."""
    local_day = moment.astimezone(ZoneInfo(tz_name)).date()
    if frequency == WEEKLY:
        year, week, _ = local_day.isocalendar()
        return f"{year}-W{week:02d}"
    return local_day.isoformat()


def _send_days(start: date, frequency: str) -> Iterator[date]:
    day = start
    while True:
        if frequency != WEEKLY or day.weekday() == WEEKLY_DAY:
            yield day
        day += timedelta(days=1)


def next_send_time(
    after: datetime, frequency: str, tz_name: str, hour: int, taken: Collection[str] = ()
) -> datetime:
    """The first send time strictly after `after` whose period is not `taken`.

    After a digest of period P went out, `taken` holds P: a subscriber whose
    first digest went out this morning gets the next one tomorrow, not again
    at their usual hour today.
    """
    zone = ZoneInfo(tz_name)
    for day in _send_days(after.astimezone(zone).date(), frequency):
        candidate = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
        if candidate > after and period_of(candidate, frequency, tz_name) not in taken:
            return candidate
    raise AssertionError("unreachable: _send_days is endless")


def period_start(moment: datetime, frequency: str, tz_name: str) -> datetime:
    """The first instant of the period `moment` falls in (local midnight, or Monday's), in UTC."""
    zone = ZoneInfo(tz_name)
    day = moment.astimezone(zone).date()
    if frequency == WEEKLY:
        day -= timedelta(days=day.weekday() - WEEKLY_DAY)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def send_time_after_change(
    now: datetime,
    frequency: str,
    tz_name: str,
    hour: int,
    taken: Collection[str],
    not_before: datetime | None = None,
) -> datetime:
    """When the next digest is due after the subscriber changed their schedule.

    The current period's send time when that period has no digest yet, even
    when the (new) hour has just passed: then it is due at once, as a digest
    that was late. Otherwise the first send time of a later period. Never
    before `not_before` (the end of a pause).
    """
    earliest = period_start(now, frequency, tz_name) - _INSTANT
    if not_before is not None:
        earliest = max(earliest, not_before)
    return next_send_time(earliest, frequency, tz_name, hour, taken)


def last_moment_before(day: date, tz_name: str) -> datetime:
    """The instant before local midnight starting `day`, in UTC.

    Scheduling "after" it gives the first send time on `day` itself: what a
    pause until `day` needs.
    """
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(tz_name)).astimezone(UTC)
    return midnight - _INSTANT
