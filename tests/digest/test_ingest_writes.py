"""upsert's two ways of writing (digest/ingest.py): COPY into a temporary table on
PostgreSQL, the ORM's bulk_create/bulk_update elsewhere. Both must leave the same
rows: the same feeds are written each way, one after the other, and compared."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from digest import ingest
from digest.models import Paper, Source
from digest.sources import PaperRecord

pytestmark = pytest.mark.django_db

# Every column but those that hold the time of the run (first_seen, updated_at).
COMPARED = [
    f.attname
    for f in Paper._meta.concrete_fields
    if f.attname not in ("id", "first_seen", "updated_at")
]


def _feeds() -> list[tuple[str, list[PaperRecord]]]:
    published = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    first = [
        PaperRecord(
            f"2611.{n:05d}",
            f"Title {n} “quoted”, a\ttab, a back\\slash",
            abstract=f"Abstract {n}\nwith a line break; Ünïcode and $k<n$.",
            authors=("Ann Lee", f"Bo Ng {n}", 'Quote "Q" Name'),
            categories=("cs.LG", "stat.ML"),
            version=1,
            published=published,
            abs_url=f"https://arxiv.org/abs/2611.{n:05d}",
            pdf_url=f"https://arxiv.org/pdf/2611.{n:05d}",
            journal_ref="J. Tests 1 (2026)" if n % 2 else "",
            doi=f"10.1234/x.{n}" if n % 3 == 0 else "",
            announce_type="replace" if n == 4 else "new",
        )
        for n in range(6)
    ]
    # Version 2 of some (one described again, one replaced back to an older version),
    # one new paper; then Hugging Face's counts and page, one of them at zero.
    second = [
        PaperRecord("2611.00001", "Title 1, v2", abstract="New.", version=2),
        PaperRecord("2611.00002", "Older title", abstract="Stale.", version=1),
        PaperRecord("2611.00004", "Title 4", version=1, announce_type="cross"),
        PaperRecord("2611.00009", "A new one", version=1, published=published),
    ]
    counts = [
        PaperRecord(
            f"2611.{n:05d}",
            "HF title",
            upvotes=n * 10,
            comments=0,
            hf_url=f"https://huggingface.co/papers/2611.{n:05d}",
        )
        for n in (0, 1, 9)
    ] + [PaperRecord("2612.00001", "Only on Hugging Face", upvotes=3)]
    return [("arxiv", first), ("arxiv", second), ("hf", counts), ("arxiv", second)]


def _ingest_all(sources: dict[str, Source]) -> tuple[list, list]:
    summaries = []
    for name, records in _feeds():
        summary = ingest.upsert(records, sources[name])
        summaries.append((summary.new, summary.updated, summary.unchanged))
    rows = sorted(Paper.objects.values_list(*COMPARED))
    links = sorted(Paper.sources.through.objects.values_list("paper__canonical_id", "source__name"))
    return summaries, rows + links


def _sources() -> dict[str, Source]:
    return {
        "arxiv": Source.objects.create(name="arXiv", url="https://rss.arxiv.org/rss/cs.LG"),
        "hf": Source.objects.create(
            name="HF", url="https://huggingface.co/api/daily_papers", kind="hf_daily"
        ),
    }


def test_copy_on_postgresql_writes_what_the_orm_writes(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    sources = _sources()
    copied = _ingest_all(sources)
    assert copied[0] == [(6, 0, 0), (1, 3, 0), (1, 3, 0), (0, 0, 4)]

    Paper.objects.all().delete()
    monkeypatch.setattr(ingest, "_PostgresWrites", ingest._ModelWrites)
    assert _ingest_all(sources) == copied


def test_updated_at_moves_only_for_a_paper_that_changed():
    sources = _sources()
    _ingest_all(sources)
    before = dict(Paper.objects.values_list("canonical_id", "updated_at"))

    ingest.upsert([PaperRecord("2611.00003", "Title 3, v2", version=2)], sources["arxiv"])

    after = dict(Paper.objects.values_list("canonical_id", "updated_at"))
    assert [key for key in after if after[key] != before[key]] == ["2611.00003"]
    assert after["2611.00003"] > before["2611.00003"]
