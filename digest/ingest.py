"""Turning feed records into Paper rows, and fetching sources.

`upsert` is idempotent: a paper is keyed on its canonical id, so ingesting the
same feed twice, or the same paper from arXiv, its API and Hugging Face, leaves
one row that lists all its sources. A paper's `first_seen` is set once, when
Paperboy first learns of it; digests select on it, so a paper ingested late is
still mailed once. It is read from the window clock (digest/window.py), so a
window that ends while an ingest is in flight cannot skip its papers.

Who may say what about a paper: an arXiv paper (its canonical id is an arXiv
id) is described (title, abstract, authors, categories, version, published,
links, DOI, journal reference) only by arXiv's own feeds (`ARXIV_KINDS`). Any
other source, Hugging Face or a lab's blog, adds itself to the paper's sources
and its signals (Hugging Face's page, upvotes and comments), and never rewrites
the paper. A paper not known yet may be created by such a source, so a Hugging
Face pick is news at once; its version is not stored, so the paper's first
record from arXiv replaces the description it brought (arXiv links, no DOI).
Papers keyed on a DOI or a link have no such owner: any source describes them.

Every record is checked against the columns first (digest/record_checks.py):
an item that cannot be stored is dropped with a reason, the rest of the feed
is written, and the reasons are kept on the Source.

A fetch holds a lease on its Source, so two runs of one source never overlap,
and records how it went on the Source (visible in the admin) instead of
raising: one broken source never stops the others, and a fetch that failed,
for whatever reason, always leaves its error there.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from digest import health, sources, window
from digest.models import Paper, Source
from digest.record_checks import MAX_REASONS, check_records
from digest.sources import ARXIV_KINDS, HUGGING_FACE_KINDS, backfill
from digest.sources.fetch import HTTPStatusError, fetch
from digest.sources.ids import is_arxiv_id
from digest.sources.records import FeedError, PaperRecord, ServiceError

logger = logging.getLogger(__name__)

# What describes the paper: taken from the newest version a feed announces.
_DESCRIPTIVE = ["title", "abstract", "authors", "categories", "version", "published_at"]
# What some feeds know and others do not: filled in whenever a feed has it.
_SUPPLEMENTARY = ["abs_url", "pdf_url", "doi", "journal_ref"]
# What Hugging Face adds to any paper, arXiv's too: its page, and counts that
# change every fetch (always the latest).
_SIGNALS = ["hf_url"]
_COUNTERS = ["upvotes", "comments"]
_WRITTEN = [
    *_DESCRIPTIVE,
    *_SUPPLEMENTARY,
    *_SIGNALS,
    *_COUNTERS,
    "announced_as_new",
    "first_seen",
]


@dataclass
class IngestSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # Items that could not be stored, and why (with fields left out of stored ones).
    dropped: int = 0
    problems: list[str] = field(default_factory=list)
    # Papers of the last days whose Hugging Face counts were read again and changed.
    refreshed: int = 0

    def __str__(self) -> str:
        text = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        text = f"{text}, {self.dropped} dropped" if self.dropped else text
        return (
            f"{text}; upvotes of {self.refreshed} older papers updated" if self.refreshed else text
        )

    def __iadd__(self, other: "IngestSummary") -> "IngestSummary":
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.dropped += other.dropped
        self.problems += other.problems
        return self


def _values(record: PaperRecord) -> dict[str, object]:
    return {
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "categories": list(record.categories),
        "version": record.version,
        "published_at": record.published,
        "abs_url": record.abs_url,
        "pdf_url": record.pdf_url,
        "doi": record.doi,
        "journal_ref": record.journal_ref,
        "hf_url": record.hf_url,
        "upvotes": record.upvotes,
        "comments": record.comments,
    }


def _apply_update(paper: Paper, record: PaperRecord, now: datetime, from_arxiv: bool) -> bool:
    """Copy what the record knows better onto `paper`; True when anything changed.

    An older version never overwrites a newer one, an empty value never erases
    what another feed said, and only arXiv describes an arXiv paper.
    """
    values = _values(record)
    names = list(_SIGNALS)
    if from_arxiv or not is_arxiv_id(paper.canonical_id):
        names += _SUPPLEMENTARY
        if paper.version is None or (record.version or 0) >= paper.version:
            names += _DESCRIPTIVE
    changed = False
    for name in names:
        if values[name] and getattr(paper, name) != values[name]:
            setattr(paper, name, values[name])
            changed = True
    for name in _COUNTERS:
        if values[name] is not None and getattr(paper, name) != values[name]:
            setattr(paper, name, values[name])
            changed = True
    if not paper.announced_as_new and not record.is_replacement:
        # Known so far only as a new version of an old paper, now announced as
        # news (a cross-list, a Hugging Face pick): it has never been mailed,
        # so it becomes news from now on.
        paper.announced_as_new = True
        paper.first_seen = now
        changed = True
    if changed:
        paper.updated_at = now  # bulk_update skips auto_now
    return changed


def _new_paper(record: PaperRecord, first_seen: datetime, from_arxiv: bool) -> Paper:
    values = {name: value for name, value in _values(record).items() if value is not None}
    if not from_arxiv and is_arxiv_id(record.canonical_id):
        # A description for now: no version, so arXiv's first record of it replaces it;
        # arXiv's own links, and no DOI or journal reference only this feed claims.
        for name in ("version", "doi", "journal_ref"):
            values.pop(name, None)
        values["abs_url"] = f"https://arxiv.org/abs/{record.canonical_id}"
        values["pdf_url"] = f"https://arxiv.org/pdf/{record.canonical_id}"
    return Paper(
        canonical_id=record.canonical_id,
        first_seen=first_seen,
        # A replacement of a paper Paperboy never saw is an old paper: stored, never mailed.
        announced_as_new=not record.is_replacement,
        **values,
    )


def upsert(
    records: Iterable[PaperRecord],
    source: Source | None = None,
    *,
    first_seen: Callable[[PaperRecord], datetime] | None = None,
    from_arxiv: bool | None = None,
) -> IngestSummary:
    """Create or update one Paper per canonical id, all or nothing.

    The number of queries does not grow with the number of records: existing
    papers are read in one query and written back in bulk. `first_seen` picks
    the first-seen time of new papers (default: now). `from_arxiv` says the
    records are arXiv's own (default: when `source` is of an arXiv kind, or when
    there is no source: records handed over by code, not read from a feed).
    Records that cannot be stored are left out and counted (`dropped`, `problems`).
    """
    if from_arxiv is None:
        from_arxiv = source is None or source.kind in ARXIV_KINDS
    checked = check_records(records)
    by_id = {record.canonical_id: record for record in checked.records}
    summary = IngestSummary(dropped=checked.dropped, problems=checked.problems)
    if not by_id:
        return summary
    with transaction.atomic():
        # First-seen times from the window clock, so no dispatch can close a window
        # over these papers before they are committed (digest/window.py).
        now = window.ingest_time()
        existing = {p.canonical_id: p for p in Paper.objects.filter(canonical_id__in=by_id)}
        to_create, to_update = [], []
        for canonical_id, record in by_id.items():
            paper = existing.get(canonical_id)
            if paper is None:
                seen = first_seen(record) if first_seen else now
                to_create.append(_new_paper(record, seen, from_arxiv))
            elif _apply_update(paper, record, now, from_arxiv):
                to_update.append(paper)
            else:
                summary.unchanged += 1
        write = _PostgresWrites() if connection.vendor == "postgresql" else _ModelWrites()
        # A concurrent ingest of the same paper (another source) wins quietly instead
        # of failing the whole batch.
        summary.new = write.create(to_create)
        summary.updated = len(to_update)
        if to_update:
            write.update(to_update)
        if source is not None:
            write.link(source, list(by_id))
    return summary


class _ModelWrites:
    """Upsert's writes through the ORM, for databases other than PostgreSQL."""

    def create(self, papers: list[Paper]) -> int:
        return len(Paper.objects.bulk_create(papers, ignore_conflicts=True))

    def update(self, papers: list[Paper]) -> None:
        Paper.objects.bulk_update(papers, _UPDATED, batch_size=_UPDATE_BATCH)

    def link(self, source: Source, canonical_ids: list[str]) -> None:
        ids = Paper.objects.filter(canonical_id__in=canonical_ids).values_list("pk", flat=True)
        source.papers.add(*ids)


# What an update writes, and how many rows go in one UPDATE of bulk_update's CASE
# expressions (whose size grows with rows times columns).
_UPDATED = [*_WRITTEN, "updated_at"]
_UPDATE_BATCH = 100


class _PostgresWrites:
    """Upsert's writes on PostgreSQL: the rows COPYed into a temporary table, then one
    INSERT ... ON CONFLICT DO NOTHING or UPDATE ... FROM it. On 2,000 papers that is
    ~10x less time than bulk_create's parameter arrays (quoted element by element in
    Python) and ~100x less than bulk_update's CASE expressions."""

    def __init__(self) -> None:
        fields = [f for f in Paper._meta.concrete_fields if not f.primary_key]
        self.created = fields
        self.updated = [Paper._meta.get_field(name) for name in _UPDATED]

    def create(self, papers: list[Paper]) -> int:
        if not papers:
            return 0
        now = timezone.now()
        for paper in papers:
            paper.updated_at = now  # as auto_now would
        columns = ", ".join(f'"{f.column}"' for f in self.created)
        self._copy("paperboy_new_papers", self.created, papers, with_id=False)
        with connection.cursor() as cursor:
            # In the list's order, as bulk_create would: ids follow the feed's order.
            cursor.execute(
                f"INSERT INTO {_quoted(Paper)} ({columns}) SELECT {columns} "
                "FROM paperboy_new_papers ORDER BY n ON CONFLICT DO NOTHING"
            )
            created = cursor.rowcount
            cursor.execute("DROP TABLE paperboy_new_papers")
        return created

    def update(self, papers: list[Paper]) -> None:
        self._copy("paperboy_changed_papers", self.updated, papers, with_id=True)
        assignments = ", ".join(f'"{f.column}" = t."{f.column}"' for f in self.updated)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_quoted(Paper)} AS p SET {assignments} "
                'FROM paperboy_changed_papers AS t WHERE p."id" = t."id"'
            )
            cursor.execute("DROP TABLE paperboy_changed_papers")

    def link(self, source: Source, canonical_ids: list[str]) -> None:
        through = Paper.sources.through
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {_quoted(through)} ("paper_id", "source_id") '
                f'SELECT "id", %s FROM {_quoted(Paper)} WHERE "canonical_id" = ANY(%s) '
                "ON CONFLICT DO NOTHING",
                [source.pk, canonical_ids],
            )

    def _copy(self, table: str, fields: list, papers: list[Paper], with_id: bool) -> None:
        """`papers`' values of `fields` into a new temporary table `table`, numbered by
        their place in the list (column n). The caller drops it; a rollback does too."""
        names = ["id"] * with_id + [f.column for f in fields]
        columns = ", ".join(f'"{name}"' for name in names)
        prepare = [_copy_value(f) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {table} AS "
                f"SELECT 0 AS n, {columns} FROM {_quoted(Paper)} WITH NO DATA"
            )
            sql = f"COPY {table} (n, {columns}) FROM STDIN"
            debug = getattr(cursor, "debug_sql", None)  # counted like a query under DEBUG
            logged = debug(sql) if debug else nullcontext()
            with logged, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for n, paper in enumerate(papers):
                    row = [n, *([paper.pk] if with_id else ())]
                    row += [value(paper) for value in prepare]
                    copy.write_row(row)


def _copy_value(field) -> Callable[[Paper], object]:
    """How COPY is given `field`'s value of a paper: JSON as its text."""
    name = field.attname
    if field.get_internal_type() == "JSONField":
        return lambda paper: json.dumps(getattr(paper, name))
    return lambda paper: getattr(paper, name)


def _quoted(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def ingest_bytes(data: bytes, kind: str, source: Source | None = None) -> IngestSummary:
    """Parse a whole feed first, then write: a feed that fails to parse changes no row.

    The records are arXiv's own when `kind` is one of arXiv's feeds.
    """
    return upsert(sources.parse(kind, data), source, from_arxiv=kind in ARXIV_KINDS)


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise FeedError(f"cannot read {path}: {error.strerror}") from None


def ingest_file(path: Path, kind: str | None = None) -> IngestSummary:
    """Ingest a feed file; its kind is detected from its content when not given."""
    data = read_file(path)
    return ingest_bytes(data, kind or sources.kind_for_content(data))


@dataclass
class FetchOutcome:
    source: Source
    summary: IngestSummary = field(default_factory=IngestSummary)
    not_modified: bool = False
    busy: bool = False
    error: str = ""
    transient: bool = False
    # The feed was read whole and its health noted on the source (health.record_read).
    read: bool = False

    def __str__(self) -> str:
        if self.busy:
            return "skipped: already being fetched"
        if self.error:
            return f"error: {self.error}"
        return "not modified" if self.not_modified else str(self.summary)


def _take_lease(source: Source, seconds: int) -> bool:
    """Hold `source` for `seconds` unless another run holds it; one atomic UPDATE."""
    now = timezone.now()
    free = Q(fetch_lease_until__isnull=True) | Q(fetch_lease_until__lte=now)
    until = now + timedelta(seconds=seconds)
    taken = Source.objects.filter(free, pk=source.pk).update(fetch_lease_until=until)
    return taken == 1


def _renew_lease(source: Source, seconds: int) -> None:
    # A long backfill keeps its source page after page.
    until = timezone.now() + timedelta(seconds=seconds)
    Source.objects.filter(pk=source.pk).update(fetch_lease_until=until)


def _release_lease(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(fetch_lease_until=None)


def _explain(error: FeedError, kind: str) -> str:
    """The error's text for the Source, with arXiv's own reason where its answer gives one.

    arXiv answers a bad category with HTTP 400 and a feed titled "Feed error
    for query" that says what is wrong; the parser reads it. No other answer
    is quoted: the Source's error shows what went wrong, never what a server
    (perhaps not the one meant) had to say.
    """
    if kind not in ARXIV_KINDS:
        return error.headline if isinstance(error, ServiceError) else str(error)
    if isinstance(error, HTTPStatusError) and error.body:
        try:
            sources.parse(kind, error.body)
        except ServiceError as reason:
            return f"{error}: {reason}"
        except FeedError:
            pass  # an error page that says nothing more than its status
    return str(error)


def _kind_hint(data: bytes, kind: str) -> str:
    """A hint when a feed that failed to parse looks like another kind of feed."""
    try:
        detected = sources.kind_for_content(data) if data else kind
    except FeedError:
        return ""
    if detected == kind:
        return ""
    return f" (it looks like {sources.KIND_LABELS[detected]}: is the source's kind right?)"


def _database_failure(source: Source, error: DatabaseError) -> FetchOutcome:
    """A fetch whose papers could not be written, as an error for the Source."""
    logger.warning("source %s: storing its papers failed: %s", source.name, error)
    if not connection.in_atomic_block:
        # A dropped connection: closed here, so recording the failure opens a new one.
        connection.close_if_unusable_or_obsolete()
    # The database's first line ("value too long for type character varying(500)"),
    # not its DETAIL, which quotes the row.
    first_line = (str(error).strip().splitlines() or [""])[0][:200]
    reason = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return FetchOutcome(
        source,
        error=f"could not store the papers (database error, {reason})",
        # A lost connection may be back in a minute; a refused row is refused again.
        transient=isinstance(error, OperationalError | InterfaceError),
    )


def _unexpected_failure(source: Source, error: Exception) -> FetchOutcome:
    # A bug, not a bad feed: the traceback goes to the log, the Source says it failed.
    logger.exception("source %s: fetch failed unexpectedly", source.name)
    return FetchOutcome(
        source, error=f"failed unexpectedly ({type(error).__name__}); the worker's log has more"
    )


def _record_outcome(source: Source, outcome: FetchOutcome, started: datetime) -> None:
    source.last_fetched_at = started
    fields = ["last_fetched_at", "last_status", "last_error", "consecutive_failures"]
    if outcome.error:
        source.last_status = Source.Status.ERROR
        source.last_error = outcome.error
        source.consecutive_failures += 1
    else:
        source.last_status = (
            Source.Status.NOT_MODIFIED if outcome.not_modified else Source.Status.OK
        )
        source.last_error = ""
        source.consecutive_failures = 0
        source.last_success_at = started
        fields.append("last_success_at")
        if not outcome.not_modified:
            source.last_summary = str(outcome.summary)
            source.last_dropped = outcome.summary.dropped
            source.last_problems = "\n".join(outcome.summary.problems[: MAX_REASONS + 1])
            fields += ["last_summary", "last_dropped", "last_problems", "etag", "last_modified"]
        # What the feed held, for its health; a 304 or a backfill read no feed.
        fields += health.READ_FIELDS if outcome.read else health.record_unchanged(source, started)
    source.save(update_fields=fields)


def fetch_source(source: Source, *, sleep: Callable[[float], None] = time.sleep) -> FetchOutcome:
    """Fetch one source, ingest what it holds, and record how it went on the Source.

    Errors are recorded, not raised: a bad feed, a refused address, a database
    that refused the papers, a bug. The ETag of a response that failed to parse
    is not stored, or the next fetch would be answered 304 and skip the good
    copy. A source another run is fetching is left alone (`busy`). A Hugging Face
    source then reads the counts of the last days' papers again (refresh_counts).
    """
    if not _take_lease(source, settings.FETCH_LEASE_SECONDS):
        return FetchOutcome(source, busy=True)
    started = timezone.now()
    body = b""
    try:
        response = fetch(
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            timeout=settings.FETCH_TIMEOUT_SECONDS,
            max_bytes=settings.FETCH_MAX_BYTES,
            allowed_hosts=settings.FETCH_ALLOWED_HOSTS,
        )
        if response.not_modified:
            outcome = FetchOutcome(source, not_modified=True)
        else:
            body = response.body
            records = sources.parse(source.kind, body)
            summary = upsert(records, source, from_arxiv=source.kind in ARXIV_KINDS)
            source.etag, source.last_modified = response.etag, response.last_modified
            health.record_read(source, body, records, started)
            outcome = FetchOutcome(source, summary=summary, read=True)
        if source.kind in HUGGING_FACE_KINDS and settings.HF_REFRESH_DAYS > 0:
            outcome.summary.refreshed = refresh_counts(source, settings.HF_REFRESH_DAYS, sleep)
    except FeedError as error:
        message = _explain(error, source.kind) + _kind_hint(body, source.kind)
        logger.warning("source %s failed: %s", source.name, message)
        outcome = FetchOutcome(source, error=message, transient=error.transient)
    except DatabaseError as error:
        outcome = _database_failure(source, error)
    except Exception as error:
        outcome = _unexpected_failure(source, error)
    finally:
        _release_lease(source)
    _record_outcome(source, outcome, started)
    health.report(source)
    return outcome


def refresh_counts(
    source: Source,
    days: int,
    sleep: Callable[[float], None] = time.sleep,
    today: date | None = None,
) -> int:
    """Read the Hugging Face daily lists of the `days` days before today again, and take
    their upvotes and comments: upvotes keep growing for days after a paper is featured,
    and a weekly digest's `trending` ranks by this week's counts, not by those of the
    morning each paper appeared. Only papers Paperboy knows are touched (this is no
    backfill); a day that fails ends the refresh, logged, as the fetch it follows has
    succeeded. How many papers' counts changed."""
    today = today or timezone.localdate()
    pages = backfill.hugging_face_days(
        fetch_bytes,
        kind=source.kind,
        url=source.url,
        today=today - timedelta(days=1),
        days=days - 1,
        delay=settings.BACKFILL_DELAY_SECONDS,
        sleep=sleep,
    )
    changed = 0
    try:
        for records in pages:
            ids = [record.canonical_id for record in records]
            known = set(
                Paper.objects.filter(canonical_id__in=ids).values_list("canonical_id", flat=True)
            )
            counts = [
                PaperRecord(r.canonical_id, r.title, upvotes=r.upvotes, comments=r.comments)
                for r in records
                if r.canonical_id in known
            ]
            changed += upsert(counts, source).updated
    except FeedError as error:
        logger.warning("source %s: refreshing the upvotes stopped: %s", source.name, error)
    return changed


def fetch_bytes(url: str, timeout: float | None = None) -> bytes:
    """The body at `url`, fetched under the site's limits (FETCH_TIMEOUT_SECONDS unless
    `timeout` says otherwise)."""
    return fetch(
        url,
        timeout=settings.FETCH_TIMEOUT_SECONDS if timeout is None else timeout,
        max_bytes=settings.FETCH_MAX_BYTES,
        allowed_hosts=settings.FETCH_ALLOWED_HOSTS,
    ).body


def _history_pages(source: Source, days: int, sleep: Callable[[float], None]) -> Iterator:
    now = timezone.now()
    delay = settings.BACKFILL_DELAY_SECONDS
    if source.kind in ("hf_daily", "hf_page"):
        return backfill.hugging_face_days(
            fetch_bytes,
            kind=source.kind,
            url=source.url,
            today=timezone.localdate(now),
            days=days,
            delay=delay,
            sleep=sleep,
        )
    return backfill.arxiv_pages(
        fetch_bytes,
        api_url=settings.ARXIV_API_URL,
        search_query=backfill.arxiv_search_query(source.kind, source.url),
        since=now - timedelta(days=days),
        page_size=settings.ARXIV_API_PAGE_SIZE,
        delay=delay,
        sleep=sleep,
    )


def _seen_when_published(now: datetime) -> Callable[[PaperRecord], datetime]:
    # History is not news: a backfilled paper counts as seen when it was
    # published, so it reaches only digests whose window it falls in.
    return lambda record: min(record.published or now, now)


def backfill_source(
    source: Source,
    days: int,
    *,
    on_page: Callable[[IngestSummary], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchOutcome:
    """Ingest the last `days` days of a source's papers, page by page.

    Each page is written as it arrives, so an error on page 7 keeps pages 1-6;
    the error is recorded on the Source like a fetch's.
    """
    if not _take_lease(source, settings.FETCH_LEASE_SECONDS):
        return FetchOutcome(source, busy=True)
    started = timezone.now()
    outcome = FetchOutcome(source)
    try:
        for records in _history_pages(source, days, sleep):
            page = upsert(records, source, first_seen=_seen_when_published(started))
            outcome.summary += page
            _renew_lease(source, settings.FETCH_LEASE_SECONDS)
            if on_page:
                on_page(page)
    except FeedError as error:
        logger.warning("backfill of %s failed: %s", source.name, error)
        # arXiv sources backfill from arXiv's API, whose own reasons may be shown.
        kind = "arxiv_api" if source.kind in ARXIV_KINDS else source.kind
        outcome.error, outcome.transient = _explain(error, kind), error.transient
    except DatabaseError as error:
        failed = _database_failure(source, error)
        outcome.error, outcome.transient = failed.error, failed.transient
    except Exception as error:
        outcome.error = _unexpected_failure(source, error).error
    finally:
        _release_lease(source)
    _record_outcome(source, outcome, started)
    return outcome
