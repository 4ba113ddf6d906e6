"""Adding and enabling sources, as staff do in the admin: one source per feed, a name
for one added without it, and a first fetch at once instead of at the next beat."""

from collections.abc import Collection, Iterable

from django.db.models import QuerySet

from digest import tasks
from digest.models import Source
from digest.sources.urls import default_source_name, feed_url_key

NAME_LENGTH = Source._meta.get_field("name").max_length
# Changes after which a source is fetched at once: what it reads, or that it reads again.
FETCH_AFTER_CHANGING = frozenset({"url", "kind", "enabled"})


def source_with_same_feed(url: str, other_than: int | None = None) -> Source | None:
    """The source that already reads the feed at `url`, however its URL is spelled."""
    key = feed_url_key(url)
    # A few dozen sources at most: compared in Python, by the same function.
    for source in Source.objects.exclude(pk=other_than).only("pk", "name", "url"):
        if feed_url_key(source.url) == key:
            return source
    return None


def unused_name(url: str, kind: str, other_than: int | None = None) -> str:
    """A name for a source given none: from its URL, with " (2)", " (3)"… when taken."""
    base = default_source_name(url, kind)[:NAME_LENGTH]
    taken = set(
        Source.objects.exclude(pk=other_than)
        .filter(name__startswith=base[: NAME_LENGTH - 6])
        .values_list("name", flat=True)
    )
    name, number = base, 1
    while name in taken:
        number += 1
        suffix = f" ({number})"
        name = base[: NAME_LENGTH - len(suffix)] + suffix
    return name


def should_fetch_now(source: Source, created: bool, changed: Collection[str]) -> bool:
    """A source just added, enabled again, or pointed at another feed is fetched at once,
    so staff see whether it works without waiting for the next scheduled fetch."""
    return source.enabled and (created or not FETCH_AFTER_CHANGING.isdisjoint(changed))


def fetch_after_commit(source_ids: Iterable[int]) -> None:
    # After the commit: a worker fast enough to start first would not find the row.
    for source_id in source_ids:
        tasks.fetch_source.delay_on_commit(source_id)


def enable(sources: QuerySet[Source]) -> int:
    """Enable `sources`, fetching at once those that were disabled; how many were."""
    disabled = list(sources.filter(enabled=False).values_list("pk", flat=True))
    Source.objects.filter(pk__in=disabled).update(enabled=True)
    fetch_after_commit(disabled)
    return len(disabled)
