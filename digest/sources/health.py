"""Is a source up to date? Quiet (no news expected), fresh, or stale since a given time.

Pure Python, no Django: `assess` takes a schedule, the last successful fetch, the
last time the feed was seen to change, and "now", and says which, so the admin,
the status page, the error log and the digests all say the same thing.

A feed "changes" when it holds entries it did not hold before (`changed`); what
its own build date says counts only where the date means something: arXiv
rebuilds its feeds every midnight whatever was announced, and keeps serving the
previous day's batch under a new `lastBuildDate` when a category's feed gets stuck
(ZJU-REAL/Polaris issue #414), so there only an empty feed built anew counts: that
is what a category with nothing announced that day looks like.

Schedules:
- arXiv's RSS feeds (`arxiv_calendar`): an announcement Sunday to Thursday at
  20:00 US Eastern, except on its holidays, shown at the next midnight rebuild.
  An arXiv API query is judged like any other feed below: a narrow query may
  rightly find nothing new after an announcement.
- Hugging Face daily papers: a new daily list each weekday (UTC dates). Hugging
  Face publishes no schedule; the list fills during the day, so one is expected to
  be visible by noon UTC.
- Any other feed (and an API query) has no announcements to miss: it is stale
  when it could not be read for longer than its `ttl` allows plus the grace
  period, and quiet in the days and hours its `skipDays` / `skipHours` name (GMT).

The grace period is how late a change may come before its source is stale: arXiv's
midnight rebuild has been seen nearly five hours late (a lastBuildDate of 08:58 UTC),
and a change reaches Paperboy only at its next fetch.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from digest.sources import ARXIV_KINDS, arxiv_calendar
from digest.sources.records import PaperRecord

FRESH, QUIET, STALE, UNKNOWN = "fresh", "quiet", "stale", "unknown"
STATES = (FRESH, QUIET, STALE, UNKNOWN)
LABELS = {
    FRESH: "fresh",
    QUIET: "quiet",
    STALE: "stale",
    UNKNOWN: "not read yet",
}

_ARXIV_RSS_KINDS = frozenset({"arxiv_rss", "arxiv_rss_legacy"})
_HUGGING_FACE_KINDS = frozenset({"hf_daily", "hf_page"})
# How far back `assess` looks for the day a feed last settled (quiet or fresh).
_LOOKBACK_DAYS = 14


@dataclass(frozen=True)
class Slot:
    """A moment a source may change: `at` when it happens (arXiv's announcement),
    `visible` when the feed shows it, `expected` False on a day without one."""

    at: datetime
    visible: datetime
    expected: bool


@dataclass(frozen=True)
class Calendar:
    """A source that changes at most once a day, at a set local time, on set days."""

    zone: tzinfo
    at: time
    expected_on: Callable[[date], bool]
    visible_after: Callable[[date], datetime]
    # What a change is called: "announcement", "daily list".
    noun: str
    whose: str = ""

    def slot(self, day: date) -> Slot:
        return Slot(
            datetime.combine(day, self.at, tzinfo=self.zone),
            self.visible_after(day),
            self.expected_on(day),
        )

    def slots(self, after: datetime, until: datetime) -> Iterator[Slot]:
        """The slots visible in (after, until], oldest first."""
        day = after.astimezone(self.zone).date() - timedelta(days=2)
        while (slot := self.slot(day)).visible <= until:
            if slot.visible > after:
                yield slot
            day += timedelta(days=1)

    def slots_back(self, until: datetime, days: int) -> Iterator[Slot]:
        """The slots visible by `until`, newest first, going back `days` days."""
        day = until.astimezone(self.zone).date() + timedelta(days=1)
        for _ in range(days + 2):
            slot = self.slot(day)
            if slot.visible <= until:
                yield slot
            day -= timedelta(days=1)


@dataclass(frozen=True)
class FeedHints:
    """A feed without announcements: what it says of itself (RSS `ttl`, `skipDays`,
    `skipHours`; days Monday=0, hours GMT)."""

    ttl: timedelta = timedelta(0)
    skip_days: frozenset[int] = field(default_factory=frozenset)
    skip_hours: frozenset[int] = field(default_factory=frozenset)
    noun: str = "update"

    def skips(self, moment: datetime) -> bool:
        moment = moment.astimezone(UTC)
        return moment.weekday() in self.skip_days or moment.hour in self.skip_hours


Schedule = Calendar | FeedHints


def _arxiv(visible_after: Callable[[date], datetime]) -> Calendar:
    return Calendar(
        zone=arxiv_calendar.EASTERN,
        at=arxiv_calendar.ANNOUNCEMENT_TIME,
        expected_on=arxiv_calendar.announces_on,
        visible_after=visible_after,
        noun="announcement",
        whose="arXiv's ",
    )


ARXIV_RSS = _arxiv(arxiv_calendar.feed_rebuilt_after)
HUGGING_FACE = Calendar(
    zone=UTC,
    at=time(0, 0),
    expected_on=lambda day: day.weekday() < 5,
    visible_after=lambda day: datetime.combine(day, time(12, 0), tzinfo=UTC),
    noun="daily list",
    whose="Hugging Face's ",
)


def schedule_for(kind: str, hints: dict | None = None) -> Schedule:
    """The schedule of a source of `kind`; `hints` are what its feed said (FeedTiming.as_hints)."""
    if kind in _ARXIV_RSS_KINDS:
        return ARXIV_RSS
    if kind in _HUGGING_FACE_KINDS:
        return HUGGING_FACE
    hints = hints or {}
    return FeedHints(
        ttl=timedelta(minutes=int(hints.get("ttl") or 0)),
        skip_days=frozenset(hints.get("skip_days") or ()),
        skip_hours=frozenset(hints.get("skip_hours") or ()),
    )


@dataclass(frozen=True)
class Health:
    state: str
    # Stale: when the change that did not come was due (arXiv: the announcement), or,
    # for a feed without announcements, its last successful read.
    since: datetime | None = None
    zone: tzinfo = UTC
    noun: str = "update"
    whose: str = ""
    # False for a feed without announcements, judged by its reads alone.
    calendar: bool = True

    @property
    def label(self) -> str:
        """What the state is called: "fresh", "quiet (no announcement expected)",
        "stale since Mon 27 Apr 2026, 20:00 EDT"."""
        if self.state == QUIET:
            return f"quiet (no {self.noun} expected)"
        if self.state == STALE and self.since is not None:
            return f"stale since {tell(self.since, self.zone)}"
        return LABELS[self.state]

    @property
    def reason(self) -> str:
        """Why a stale source is stale, for people."""
        if self.state != STALE or self.since is None:
            return ""
        if not self.calendar:
            return "not read successfully since then"
        return f"{self.whose}{self.noun} expected then has not come"


def tell(moment: datetime, zone: tzinfo = UTC) -> str:
    """A moment as people read it, in `zone`: "Mon 27 Apr 2026, 20:00 EDT"."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def assess(
    schedule: Schedule,
    *,
    last_success: datetime | None,
    last_change: datetime | None,
    now: datetime,
    grace: timedelta,
) -> Health:
    """The state of a source at `now`.

    `last_success` is its last successful fetch, `last_change` the last fetch that
    found it changed (or, before any change, the first successful one). Stale: a
    change that was expected more than `grace` ago has not been seen (or, for a
    feed without a calendar, no read succeeded for its ttl and `grace`). Quiet: no
    change is expected now (a day without announcement, a skipped hour). Fresh:
    otherwise, including while an expected change is still within its grace.
    """
    if isinstance(schedule, FeedHints):
        return _assess_feed(schedule, last_success, now, grace)
    told = {"zone": schedule.zone, "noun": schedule.noun, "whose": schedule.whose}
    if last_success is None:
        return Health(UNKNOWN, **told)
    seen = last_change or last_success
    for slot in schedule.slots(after=seen, until=now - grace):
        if slot.expected:
            return Health(STALE, since=slot.at, **told)
    for slot in schedule.slots_back(now, _LOOKBACK_DAYS):
        if slot.expected and slot.visible > seen:
            continue  # still within its grace: the day before decides
        return Health(FRESH if slot.expected else QUIET, **told)
    return Health(FRESH, **told)


def _assess_feed(
    hints: FeedHints, last_success: datetime | None, now: datetime, grace: timedelta
) -> Health:
    told = {"noun": hints.noun, "calendar": False}
    if last_success is None:
        return Health(UNKNOWN, **told)
    if last_success + hints.ttl + grace <= now:
        return Health(STALE, since=last_success, **told)
    return Health(QUIET if hints.skips(now) else FRESH, **told)


def entries_key(records: Iterable[PaperRecord]) -> str:
    """What a feed holds, as one short string: its entries and their versions, in any
    order. Upvotes and other counts are left out: they change while the list does not."""
    names = sorted({f"{r.canonical_id}v{r.version or ''}" for r in records})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:32] if names else ""


def changed(
    kind: str,
    *,
    old_key: str,
    new_key: str,
    old_built: datetime | None,
    new_built: datetime | None,
) -> bool:
    """Whether a fetch found the feed changed (see the module's docstring)."""
    if new_key and new_key != old_key:
        return True
    built_anew = new_built is not None and (old_built is None or new_built > old_built)
    if kind in ARXIV_KINDS:
        return built_anew and not new_key
    return built_anew


def since_phrase(moment: datetime, now: datetime, zone: tzinfo) -> str:
    """How a digest says when a source last changed, in its reader's zone: "earlier
    today", "yesterday", "Tuesday" within the week, else "24 November"."""
    then, today = moment.astimezone(zone).date(), now.astimezone(zone).date()
    days = (today - then).days
    if days <= 0:
        return "earlier today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{then:%A}"
    return f"{then.day} {then:%B}" + ("" if then.year == today.year else f" {then.year}")


def stale_note(stale: Sequence[tuple[str, datetime]], now: datetime, zone: tzinfo) -> str:
    """The digest's one line about its stale sources, given (name, last change) pairs:
    "arXiv cs.LG has not updated since Tuesday; this digest may be short."; "" for none."""
    if not stale:
        return ""
    by_phrase: dict[str, list[str]] = {}
    for name, moment in sorted(stale, key=lambda pair: (pair[1], pair[0]), reverse=True):
        by_phrase.setdefault(since_phrase(moment, now, zone), []).append(name)
    parts = []
    for number, (phrase, names) in enumerate(by_phrase.items()):
        joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        if number == 0:
            verb = "has" if len(names) == 1 else "have"
            parts.append(f"{joined} {verb} not updated since {phrase}")
        else:
            parts.append(f"{joined} since {phrase}")
    return f"{', '.join(parts)}; this digest may be short."
