"""Each paper is analysed once: a fetch stores the analyses of what it brought, and a
sender's window and the preview read them back, making only what is missing or stale."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from digest import analyses, recent, sending, tasks
from digest.matching import Document, default_concepts, engine, stored
from digest.matching.evaluate import AnalyzedDocument
from digest.models import Delivery, Paper, PaperAnalysis
from tests.digest.test_fetching import only_source
from tests.matching.counting import count_analyses
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(monkeypatch) -> list[str]:
    """The ids of the papers the engine analyses from their text, in order."""
    return count_analyses(monkeypatch, engine, stored)


def paper(canonical_id: str, title: str, abstract: str = "", days_ago: float = 0) -> Paper:
    return Paper.objects.create(
        canonical_id=canonical_id,
        title=title,
        abstract=abstract,
        first_seen=timezone.now() - timedelta(days=days_ago),
    )


def test_a_window_reads_stored_analyses_and_makes_and_stores_only_the_missing(analysed):
    first = paper("2401.00001", "Graph neural networks for molecules")
    second = paper("2401.00002", "Diffusion models for proteins")

    found = analyses.stored_analyses([first])
    assert analysed == ["2401.00001"]
    assert set(found) == {"2401.00001"}

    found = analyses.stored_analyses([first, second])
    assert analysed == ["2401.00001", "2401.00002"]  # the first read back, not made
    assert found["2401.00001"][0] == stored.key(Document.of(first))
    assert PaperAnalysis.objects.count() == 2

    # What was stored is the analysis: read back, it matches as a fresh one does.
    read = stored.loads(found["2401.00002"][1], Document.of(second))
    fresh = AnalyzedDocument(Document.of(second), default_concepts())
    assert read.fields["title"].spans == fresh.fields["title"].spans
    assert {"diffusion", "protein"} <= read.terms()


def test_a_paper_whose_text_changed_is_analysed_again(analysed):
    changed = paper("2401.00001", "Graph neural networks")
    analyses.stored_analyses([changed])
    changed.title = "Diffusion models"  # a new version's title
    changed.save()

    found = analyses.stored_analyses([changed])

    assert analysed == ["2401.00001", "2401.00001"]
    assert found["2401.00001"][0] == stored.key(Document.of(changed))
    assert PaperAnalysis.objects.get().key == stored.key(Document.of(changed))


def test_an_analysis_of_another_analyser_is_made_again(analysed):
    old = paper("2401.00001", "Graph neural networks")
    PaperAnalysis.objects.create(paper=old, key="0123456789abcdef-feedface", data=b"old")

    assert analyses.store_recent() == 1
    assert PaperAnalysis.objects.get().key == stored.key(Document.of(old))
    assert analyses.stored_analyses([old])["2401.00001"][1] != b"old"
    assert analysed == ["2401.00001"]


def test_store_recent_makes_the_recent_papers_missing_ones_and_leaves_new_upvotes_alone(
    analysed,
):
    paper("2401.00001", "Graph neural networks", days_ago=1)
    paper("2401.00002", "Diffusion models", days_ago=30)  # older than any window: left

    assert analyses.store_recent(days=8) == 1
    assert analysed == ["2401.00001"]

    # New upvotes change the paper (updated_at), not its texts: nothing made again.
    Paper.objects.filter(canonical_id="2401.00001").update(upvotes=12, updated_at=timezone.now())
    assert analyses.store_recent(days=8) == 0
    assert analysed == ["2401.00001"]
    # ... and the analysis is marked current, so the next fetch does not read it again.
    assert PaperAnalysis.objects.filter(made_at__lt=F("paper__updated_at")).count() == 0


def test_analyses_of_papers_older_than_any_window_are_deleted(analysed, settings):
    settings.PAPER_ANALYSIS_KEEP_DAYS = 30
    old = paper("2401.00001", "Graph neural networks", days_ago=40)
    kept = paper("2401.00002", "Diffusion models", days_ago=20)
    analyses.stored_analyses([old, kept])  # a long-paused reader's window stored both
    assert PaperAnalysis.objects.count() == 2

    analyses.store_recent(days=8)

    assert list(PaperAnalysis.objects.values_list("paper__canonical_id", flat=True)) == [
        "2401.00002"
    ]


def test_a_fetch_stores_the_analyses_of_the_papers_it_brought(fixture_bytes, settings):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    with serve() as server:
        source = only_source(
            server.url("/rss/cs.LG", Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")))
        )
        tasks.fetch_source.delay(source.pk)

    assert Paper.objects.count() == 3
    assert {a.paper.canonical_id for a in PaperAnalysis.objects.select_related("paper")} == set(
        Paper.objects.values_list("canonical_id", flat=True)
    )


def test_a_sender_builds_its_window_from_the_stored_analyses(
    make_subscriber, ingested_papers, analysed, monkeypatch
):
    monkeypatch.setattr(sending, "_windows", {})
    assert analyses.store_recent() == 3
    made_at_fetch = list(analysed)
    make_subscriber(interests=("anomaly detection",))

    tasks.dispatch_digests()

    assert analysed == made_at_fetch  # the window made none
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert (
        "Performance <mark>Anomaly Detection</mark> in Athletics"
        in (mail.outbox[0].alternatives[0][0])
    )


def test_the_preview_reads_stored_analyses_and_writes_none(analysed):
    stored_first = paper("2401.00001", "Graph neural networks for molecules")
    analyses.store_recent()
    paper("2401.00002", "Graph neural networks for proteins")  # since the fetch: none stored

    index = recent.recent_index()

    assert analysed == ["2401.00001", "2401.00002"]  # the first at the fetch, not again
    assert PaperAnalysis.objects.get().paper == stored_first
    assert index.match(["graph neural networks"]).total == 2
