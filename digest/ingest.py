"""Turning feed records into Paper rows, and fetching sources.

`upsert` is idempotent: a paper is keyed on its canonical id, so ingesting the
same feed twice, or the same paper from two feeds, leaves one row. A paper's
`first_seen` is set once, when Paperboy first learns of it; digests select on it.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digest import sources
from digest.models import Paper, Source
from digest.sources.fetch import fetch
from digest.sources.records import FeedError, PaperRecord

logger = logging.getLogger(__name__)

# Fields a later announcement of the same paper (a new version) may change.
_UPDATABLE = ["title", "abstract", "authors", "categories", "abs_url", "pdf_url", "version"]


@dataclass
class IngestSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"


def _fields(record: PaperRecord) -> dict[str, object]:
    return {
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "categories": list(record.categories),
        "abs_url": record.abs_url,
        "pdf_url": record.pdf_url,
        "version": record.version,
        "published_at": record.published,
        "upvotes": record.upvotes,
    }


def _apply_update(paper: Paper, record: PaperRecord) -> bool:
    """Copy what the record knows better onto `paper`; True when anything changed."""
    changed = False
    if paper.version is None or (record.version or 0) >= paper.version:
        fields = _fields(record)
        for name in _UPDATABLE:
            # An empty value in a later announcement never erases what we know.
            if fields[name] and getattr(paper, name) != fields[name]:
                setattr(paper, name, fields[name])
                changed = True
    if record.upvotes is not None and paper.upvotes != record.upvotes:
        paper.upvotes = record.upvotes
        changed = True
    if changed:
        paper.updated_at = timezone.now()  # bulk_update skips auto_now
    return changed


def upsert(records: Iterable[PaperRecord], source: Source | None = None) -> IngestSummary:
    """Create or update one Paper per canonical id, all or nothing."""
    by_id = {record.canonical_id: record for record in records}
    summary = IngestSummary()
    if not by_id:
        return summary
    with transaction.atomic():
        existing = {p.canonical_id: p for p in Paper.objects.filter(canonical_id__in=by_id)}
        to_create, to_update = [], []
        for canonical_id, record in by_id.items():
            paper = existing.get(canonical_id)
            if paper is None:
                to_create.append(Paper(canonical_id=canonical_id, **_fields(record)))
                continue
            if _apply_update(paper, record):
                to_update.append(paper)
                summary.updated += 1
            else:
                summary.unchanged += 1
        # ignore_conflicts: a concurrent ingest of the same paper wins quietly
        # instead of failing the whole batch.
        created = Paper.objects.bulk_create(to_create, ignore_conflicts=True)
        summary.new = len(created)
        if to_update:
            Paper.objects.bulk_update(to_update, [*_UPDATABLE, "upvotes", "updated_at"])
        if source is not None:
            source.papers.add(*Paper.objects.filter(canonical_id__in=by_id))
    return summary


def ingest_bytes(data: bytes, kind: str, source: Source | None = None) -> IngestSummary:
    """Parse a whole feed first, then write: a feed that fails to parse changes no row."""
    return upsert(sources.parse(kind, data), source)


def ingest_file(path: Path, kind: str) -> IngestSummary:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FeedError(f"cannot read {path}: {error.strerror}") from None
    return ingest_bytes(data, kind)


@dataclass
class FetchOutcome:
    source: Source
    summary: IngestSummary | None = None
    not_modified: bool = False
    error: str = ""


def fetch_source(source: Source) -> FetchOutcome:
    """Fetch one source, ingest what it holds, and record how it went on the Source.

    Feed errors are recorded, not raised, so one broken source never stops the
    others. The ETag of a response that failed to parse is not stored, or the
    next fetch would be answered 304 and skip the good copy.
    """
    now = timezone.now()
    try:
        response = fetch(
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            timeout=settings.FETCH_TIMEOUT_SECONDS,
            max_bytes=settings.FETCH_MAX_BYTES,
        )
        if response.not_modified:
            source.last_status = Source.Status.NOT_MODIFIED
            outcome = FetchOutcome(source, not_modified=True)
        else:
            outcome = FetchOutcome(source, summary=ingest_bytes(response.body, source.kind, source))
            source.last_status = Source.Status.OK
            source.etag = response.etag
            source.last_modified = response.last_modified
        source.last_error = ""
    except FeedError as error:
        logger.warning("source %s failed: %s", source.name, error)
        source.last_status = Source.Status.ERROR
        source.last_error = str(error)
        outcome = FetchOutcome(source, error=str(error))
    source.last_fetched_at = now
    source.save(
        update_fields=["last_status", "last_error", "etag", "last_modified", "last_fetched_at"]
    )
    return outcome


def fetch_enabled_sources() -> list[FetchOutcome]:
    return [fetch_source(source) for source in Source.objects.filter(enabled=True)]
