from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from digest import ingest
from digest.models import Source
from digest.sources import PARSERS, FeedError


class Command(BaseCommand):
    help = (
        "Fetch new papers from the enabled sources (or one with --source), "
        "or ingest a local feed file with --file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", help="Fetch only the source with this name.")
        parser.add_argument("--file", type=Path, help="Ingest this feed file instead of fetching.")
        parser.add_argument(
            "--kind", default="arxiv_rss", choices=sorted(PARSERS), help="Feed kind of --file."
        )

    def handle(self, *args, source: str | None, file: Path | None, kind: str, **options) -> None:
        if file is not None:
            try:
                summary = ingest.ingest_file(file, kind)
            except FeedError as error:
                raise CommandError(f"{file}: {error}") from None
            self.stdout.write(f"{file}: {summary}")
            return

        sources = Source.objects.filter(enabled=True)
        if source is not None:
            sources = Source.objects.filter(name=source)
            if not sources.exists():
                raise CommandError(f"no source named {source!r}")
        failed = []
        for each in sources:
            outcome = ingest.fetch_source(each)
            if outcome.error:
                failed.append(each.name)
                self.stderr.write(f"{each.name}: error: {outcome.error}")
            elif outcome.not_modified:
                self.stdout.write(f"{each.name}: not modified")
            else:
                self.stdout.write(f"{each.name}: {outcome.summary}")
        if failed:
            raise CommandError(f"{len(failed)} source(s) failed: {', '.join(failed)}")
