import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from digest import sources
from digest.ingest import read_file
from digest.matching import Document, InterestSyntaxError, match_papers, validate_interest
from digest.sources import PARSERS, FeedError, PaperRecord


class Command(BaseCommand):
    help = (
        "Match interests against the papers of a feed file, without touching the "
        "database, and print the matches best first (or as JSON with --json)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--feed", type=Path, required=True, help="A feed file of any kind.")
        parser.add_argument(
            "--kind", choices=sorted(PARSERS), help="Feed kind (detected when absent)."
        )
        parser.add_argument(
            "--interest",
            action="append",
            required=True,
            help="An interest, as a subscriber writes it; repeat for several.",
        )
        parser.add_argument("--json", action="store_true", help="Print only a JSON list.")

    def handle(self, *args, feed: Path, kind: str | None, interest: list[str], **options) -> None:
        for text in interest:
            try:
                validate_interest(text)
            except InterestSyntaxError as error:
                raise CommandError(f"interest {text!r}: {error}") from None
        try:
            data = read_file(feed)
            records = sources.parse(kind or sources.kind_for_content(data), data)
        except FeedError as error:
            raise CommandError(f"{feed}: {error}") from None
        by_id = {record.canonical_id: record for record in records}
        results = match_papers(interest, map(Document.of, by_id.values()))
        if options["json"]:
            self.stdout.write(json.dumps([self._as_json(r, by_id) for r in results], indent=2))
            return
        self.stdout.write(f"{len(results)} of {len(by_id)} papers match, best first:")
        for rank, result in enumerate(results, 1):
            record = by_id[result.document_id]
            self.stdout.write(
                f"{rank:3}. {record.canonical_id}  {result.score:.3f}  {record.title}"
            )
            for reason in result.reasons:
                words = ", ".join(reason.matched)
                self.stdout.write(f"       {reason.interest} ({', '.join(reason.fields)}): {words}")

    @staticmethod
    def _as_json(result, by_id: dict[str, PaperRecord]) -> dict:
        record = by_id[result.document_id]
        return {
            "id": record.canonical_id,
            "title": record.title,
            "score": result.score,
            "url": record.abs_url,
            "reasons": [
                {"interest": r.interest, "matched": list(r.matched), "fields": list(r.fields)}
                for r in result.reasons
            ],
        }
