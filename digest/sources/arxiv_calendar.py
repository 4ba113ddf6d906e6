"""When arXiv announces: Sunday to Thursday at 20:00 US Eastern, except on its holidays.

Pure data and date arithmetic, no Django. The schedule and the holidays are arXiv's
own, from its help page "Availability of submissions" (arXiv/arxiv-docs,
source/help/availability.md: the "Announcement Schedule" table and "On Deferred
Mailings"), as of the docs' commit 8332d7e (2026-07-24). Its "2025 Holidays" list
was last published in commit 95c7165 (2025-08-06), before the 2026 list replaced
it. A date there is a day on whose evening arXiv makes no announcement (Thanksgiving
Thursday, 2025-11-27: no Thursday-evening mailing). Some fall on a Friday, which
has no announcement anyway; they are kept as published.

arXiv publishes a year's holidays in its first days (2026's on 2026-01-08): 2027's
are not out yet. Until they are added here, the day after a 2027 holiday reads as
fresh rather than quiet (its feed is rebuilt empty, which is how a category with
nothing announced looks: digest/sources/health.py), or as stale if the feed is not
rebuilt at all: wrong for a day at most, and never in the direction of silence.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCEMENT_TIME = time(20, 0)
# Monday is 0: Sunday (6) to Thursday (3).
ANNOUNCEMENT_WEEKDAYS = frozenset({6, 0, 1, 2, 3})

HOLIDAYS: frozenset[date] = frozenset(
    {
        # 2025 (availability.md at 95c7165)
        date(2025, 1, 1),
        date(2025, 1, 20),
        date(2025, 6, 19),
        date(2025, 7, 6),
        date(2025, 9, 1),
        date(2025, 11, 27),
        date(2025, 12, 25),
        date(2025, 12, 30),
        # 2026 (availability.md at 574c5a4, still so at 8332d7e)
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 6, 19),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 11, 26),
        date(2026, 12, 25),
        date(2026, 12, 29),
        date(2026, 12, 31),
        # 2027: not published yet (see above).
    }
)


def announces_on(day: date) -> bool:
    """True when arXiv announces on the evening of `day` (a date in US Eastern)."""
    return day.weekday() in ANNOUNCEMENT_WEEKDAYS and day not in HOLIDAYS


def announcement_at(day: date) -> datetime:
    """20:00 US Eastern on `day`, whether or not arXiv announces then (DST as it falls)."""
    return datetime.combine(day, ANNOUNCEMENT_TIME, tzinfo=EASTERN)


def feed_rebuilt_after(day: date) -> datetime:
    """When the RSS feeds show the announcement of `day`'s evening: they are rebuilt
    daily at midnight US Eastern (arxiv-docs, source/help/rss.md)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=EASTERN)
