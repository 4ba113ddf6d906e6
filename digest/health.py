"""Source health on the Source rows: what each fetch saw, the state now, the error log
entry of a stale spell, and the digest's line about stale sources.

The rules (schedules, "quiet", "fresh", "stale since …") are pure functions in
digest/sources/health.py; this module feeds them a Source's fields and settings.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from digest.matching import category_keys
from digest.models import Source
from digest.sources import ARXIV_KINDS, KIND_LABELS, arxiv_api
from digest.sources import health as rules
from digest.sources.feed_timing import read_timing
from digest.sources.records import PaperRecord

logger = logging.getLogger(__name__)

# What a successful read writes, with the fetch's own fields (ingest._record_outcome).
READ_FIELDS = ["content_changed_at", "entries_key", "feed_built_at", "schedule_hints"]


def grace() -> timedelta:
    """How late an expected change may be: the configured grace, and one fetch interval,
    since a change is seen only when the source is next fetched."""
    return timedelta(minutes=settings.SOURCE_STALE_GRACE_MINUTES + settings.FETCH_INTERVAL_MINUTES)


def record_read(
    source: Source, body: bytes, records: Sequence[PaperRecord], when: datetime
) -> None:
    """Note on `source` (unsaved) what a successful fetch at `when` read: its entries,
    the feed's build date and schedule hints, and whether that is a change."""
    timing = read_timing(body)
    key = rules.entries_key(records)
    changed = rules.changed(
        source.kind,
        old_key=source.entries_key,
        new_key=key,
        old_built=source.feed_built_at,
        new_built=timing.built_at,
    )
    if changed or source.content_changed_at is None:
        # The first read is where watching starts: nothing before it can be missed.
        source.content_changed_at = when
    source.entries_key = key
    source.feed_built_at = timing.built_at
    source.schedule_hints = timing.as_hints()


def record_unchanged(source: Source, when: datetime) -> list[str]:
    """A 304: nothing changed, but watching starts here if it had not yet."""
    if source.content_changed_at is not None:
        return []
    source.content_changed_at = when
    return ["content_changed_at"]


def health_of(source: Source, now: datetime | None = None) -> rules.Health:
    return rules.assess(
        rules.schedule_for(source.kind, source.schedule_hints),
        last_success=source.last_success_at,
        last_change=source.content_changed_at,
        now=now or timezone.now(),
        grace=grace(),
    )


def enabled_health(now: datetime | None = None) -> list[tuple[Source, rules.Health]]:
    """Every enabled source with its state, in name order (one query)."""
    now = now or timezone.now()
    return [(source, health_of(source, now)) for source in Source.objects.filter(enabled=True)]


def stale_sources(now: datetime | None = None) -> list[tuple[Source, rules.Health]]:
    return [(s, h) for s, h in enabled_health(now) if h.state == rules.STALE]


def report(source: Source, now: datetime | None = None) -> rules.Health:
    """Log a stale source as an error once per stale spell, and note that it was.

    A spell ends when the source is no longer stale, or when it changed after the
    report (and is stale again, for a later announcement): then the next one is
    logged. The conditional UPDATE makes one report of concurrent checks.
    """
    now = now or timezone.now()
    health = health_of(source, now)
    if health.state == rules.STALE and source.enabled:
        unreported = Q(stale_reported_at__isnull=True) | Q(
            stale_reported_at__lt=F("content_changed_at")
        )
        if Source.objects.filter(unreported, pk=source.pk).update(stale_reported_at=now):
            source.stale_reported_at = now
            logger.error(
                "source %s is %s: %s (last changed %s)",
                source.name,
                health.label,
                health.reason,
                rules.tell(source.content_changed_at or source.last_success_at),
            )
    elif source.stale_reported_at is not None:
        Source.objects.filter(pk=source.pk).update(stale_reported_at=None)
        source.stale_reported_at = None
        logger.info("source %s is %s again", source.name, health.label)
    return health


def report_all(now: datetime | None = None) -> int:
    """Check every enabled source (beat, with each round of fetches): a source whose
    fetches stopped altogether is reported too. How many are stale."""
    now = now or timezone.now()
    return sum(report(source, now).state == rules.STALE for source in Source.objects.all())


def categories_of(source: Source) -> list[str]:
    """The arXiv categories a source provides; [] when it does not say (Hugging Face,
    an API query, any other feed)."""
    if source.kind in ARXIV_KINDS:
        return arxiv_api.categories_of_rss_url(source.url)
    return []


def depends_on(wanted: Iterable[str], provided: Iterable[str]) -> bool:
    """Whether a subscriber who wants `wanted` categories (none: everything) depends on a
    source providing `provided` ones (none: unknown, for those who want everything)."""
    wanted = [category.lower() for category in wanted]
    if not wanted:
        return True
    provided = [category.lower() for category in provided]
    return any(
        want in category_keys(have) or have in category_keys(want)
        for want in wanted
        for have in provided
    )


def digest_note(
    categories: Iterable[str],
    time_zone: str,
    stale: Sequence[tuple[Source, rules.Health]],
    now: datetime,
) -> str:
    """The digest's line about the stale sources it depends on; "" when there are none."""
    categories = list(categories)
    mine = [
        (source.name, last_news(source, found))
        for source, found in stale
        if depends_on(categories, categories_of(source))
    ]
    return rules.stale_note(mine, now, ZoneInfo(time_zone))


def last_news(source: Source, found: rules.Health) -> datetime:
    """Since when a stale source has brought nothing: its last change; for a feed judged
    by its reads alone, its last successful read (it may rightly change seldom)."""
    if not found.calendar and found.since is not None:
        return found.since
    return source.content_changed_at or source.last_success_at


def status_rows(now: datetime | None = None) -> list[dict]:
    """What the public status page shows of each enabled source: its name and kind, its
    last successful fetch and change, and its state. Never its URL or errors, which
    may name hosts and answers that are not for the public."""
    now = now or timezone.now()
    return [
        {
            "name": source.name,
            "kind": KIND_LABELS.get(source.kind, source.kind),
            "state": found.state,
            "label": found.label,
            "reason": found.reason,
            "last_success_at": source.last_success_at,
            "changed_at": source.content_changed_at,
        }
        for source, found in enabled_health(now)
    ]
