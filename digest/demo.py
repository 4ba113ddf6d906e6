"""The bundled sample, for `make run` and the demo: real papers, honestly dated.

digest/sample/ holds the arXiv listings of three consecutive days (424 papers across
the archives) and the Hugging Face daily papers of the same days (with their upvotes),
copied from public archives (digest/sample/SOURCES.md). They are ingested the way the
real sources are: arXiv's records describe the papers, Hugging Face's add their
upvotes and pages to the same papers, all belonging to one "Sample" source that is
never fetched.

Papers a digest picks are the ones Paperboy first saw in its window, so the sample's
first-seen times are moved to the last days, keeping the order of the listing days
(the newest listing an hour ago, the one before a day earlier ...). Their publication
dates stay the real ones: a digest of the demo says when the papers came out.
Loading again moves the first-seen times again, so the demo keeps working on later
days (the papers of the sample are the demo's own: real sources never see them).
"""

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from digest import ingest
from digest.models import Paper, Source
from digest.sources import PaperRecord

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
ARXIV_FILE = SAMPLE_DIR / "arxiv-records.jsonl.gz"
HUGGING_FACE_FILE = SAMPLE_DIR / "hf-daily-records.jsonl.gz"
SOURCE_NAME = "Sample (real arXiv and Hugging Face papers, 29 June - 1 July 2026)"
# Where the sample's papers were listed; the source is never fetched (enabled=False).
SOURCE_URL = "https://arxiv.org/list/sample"
# The newest listing day counts as first seen this long ago.
NEWEST_SEEN_AGO = timedelta(hours=1)


@dataclass
class SampleSummary:
    papers: int
    hugging_face: int
    first_seen_from: datetime
    first_seen_to: datetime

    def __str__(self) -> str:
        return (
            f"{self.papers} sample papers ({self.hugging_face} with Hugging Face upvotes), "
            f"first seen {self.first_seen_from:%Y-%m-%d %H:%M} to "
            f"{self.first_seen_to:%Y-%m-%d %H:%M} UTC"
        )


def _lines(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def _published(value: str | None, listed: date) -> datetime:
    # The archives keep the listing day, rarely the submission time: a paper counts
    # as published the day arXiv announced it.
    if value and len(value) > 10:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.combine(_day(value) if value else listed, datetime.min.time(), UTC)


def arxiv_records() -> list[tuple[date, PaperRecord]]:
    """The sample's arXiv listings: (listing day, record) per paper."""
    found = []
    for row in _lines(ARXIV_FILE):
        listed = _day(row["listing_date"])
        record = PaperRecord(
            canonical_id=row["id"],
            title=row["title"],
            abstract=row["abstract"],
            authors=tuple(row["authors"]),
            categories=tuple(row["categories"]),
            abs_url=f"https://arxiv.org/abs/{row['id']}",
            pdf_url=f"https://arxiv.org/pdf/{row['id']}",
            version=row.get("version"),
            published=_published(row.get("published"), listed),
        )
        found.append((listed, record))
    return found


def hugging_face_records() -> list[tuple[date, PaperRecord]]:
    """The sample's Hugging Face daily papers: (day, record with upvotes) per entry."""
    found = []
    for row in _lines(HUGGING_FACE_FILE):
        listed = _day(row["date"])
        record = PaperRecord(
            canonical_id=row["id"],
            title=row["title"],
            abstract=row["abstract"],
            authors=tuple(row["authors"]),
            abs_url=f"https://arxiv.org/abs/{row['id']}",
            hf_url=f"https://huggingface.co/papers/{row['id']}",
            upvotes=row["upvotes"],
            comments=row.get("comments"),
            published=_published(None, listed),
        )
        found.append((listed, record))
    return found


def sample_source() -> Source:
    source, _ = Source.objects.get_or_create(
        name=SOURCE_NAME, defaults={"kind": "arxiv_api", "url": SOURCE_URL, "enabled": False}
    )
    return source


def load_sample(now: datetime | None = None) -> SampleSummary:
    """Ingest the sample (again), its first-seen times moved to the last days."""
    now = now or timezone.now()
    arxiv, hugging_face = arxiv_records(), hugging_face_records()
    newest = max(day for day, _ in arxiv + hugging_face)

    def seen(day: date) -> datetime:
        return now - NEWEST_SEEN_AGO - timedelta(days=(newest - day).days)

    day_of = {record.canonical_id: day for day, record in arxiv}
    for day, record in hugging_face:  # a paper only Hugging Face lists keeps its day
        day_of.setdefault(record.canonical_id, day)
    with transaction.atomic():
        source = sample_source()
        ingest.upsert([record for _, record in arxiv], source, from_arxiv=True)
        ingest.upsert([record for _, record in hugging_face], source, from_arxiv=False)
        for day in set(day_of.values()):
            ids = [paper_id for paper_id, listed in day_of.items() if listed == day]
            Paper.objects.filter(canonical_id__in=ids, sources=source).update(
                first_seen=seen(day), announced_as_new=True
            )
    return SampleSummary(
        papers=len(day_of),
        hugging_face=len(hugging_face),
        first_seen_from=seen(min(day_of.values())),
        first_seen_to=seen(newest),
    )
