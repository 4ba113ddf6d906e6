from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from digest import evaluations, ingest
from digest.models import Source
from digest.sources import PARSERS, FeedError


class Progress:
    """A one-line progress bar on a terminal; one line per step in a log file."""

    def __init__(self, stream, total: int, width: int = 30) -> None:
        self.stream, self.total, self.width, self.done = stream, total, width, 0
        self.interactive = getattr(stream, "isatty", lambda: False)()

    def step(self, label: str) -> None:
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {label}"
        if self.interactive:
            self.stream.write(f"\r\033[K{bar}", ending="")
            if self.done == self.total:
                self.stream.write("")
        else:
            self.stream.write(bar)


class Command(BaseCommand):
    help = (
        "Fetch new papers from the enabled sources (or one with --source), "
        "read their last N days with --backfill-days, or ingest a local feed file "
        "with --file. Exits non-zero when a source failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", help="Only the source with this name.")
        parser.add_argument("--file", type=Path, help="Ingest this feed file instead of fetching.")
        parser.add_argument(
            "--kind", choices=sorted(PARSERS), help="Feed kind of --file (detected when absent)."
        )
        parser.add_argument(
            "--backfill-days",
            type=int,
            metavar="N",
            help="Read the sources' papers of the last N days from arXiv's API or Hugging Face.",
        )

    def handle(self, *args, **options) -> None:
        self.verbosity = options["verbosity"]
        if options["file"] is not None:
            self._ingest_file(options["file"], options["kind"])
            return
        sources = Source.objects.filter(enabled=True)
        if options["source"] is not None:
            sources = Source.objects.filter(name=options["source"])
            if not sources.exists():
                raise CommandError(f"no source named {options['source']!r}")
        days = options["backfill_days"]
        if days is not None and days < 1:
            raise CommandError("--backfill-days must be at least 1")
        self._fetch(list(sources), days)

    def _ingest_file(self, path: Path, kind: str | None) -> None:
        try:
            summary = ingest.ingest_file(path, kind)
        except FeedError as error:
            raise CommandError(f"{path}: {error}") from None
        self.stdout.write(f"{path}: {summary}")
        if summary.new or summary.updated:
            self.stdout.write(evaluations.prepared_summary(*evaluations.prepare_recent()))

    def _fetch(self, sources: list[Source], days: int | None) -> None:
        progress = Progress(self.stdout, len(sources))
        total, failed = ingest.IngestSummary(), []
        for source in sources:
            if days is None:
                outcome = ingest.fetch_source(source)
            else:
                outcome = ingest.backfill_source(
                    source, days, on_page=lambda page, s=source: self._page(s, page)
                )
            total += outcome.summary
            if outcome.error:
                failed.append(source.name)
            progress.step(f"{source.name}: {outcome}")
        self.stdout.write(
            f"Summary: {total.new} new, {total.updated} updated, "
            f"{total.unchanged} skipped (already known, unchanged), {len(failed)} errors"
        )
        if total.new or total.updated:  # as the fetch task does (digest/evaluations.py)
            self.stdout.write(evaluations.prepared_summary(*evaluations.prepare_recent()))
        if failed:
            raise CommandError(f"{len(failed)} source(s) failed: {', '.join(failed)}")

    def _page(self, source: Source, page: ingest.IngestSummary) -> None:
        if self.verbosity > 1:
            self.stdout.write(f"  {source.name}: page of {page}")
