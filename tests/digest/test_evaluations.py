"""The readers' clauses are evaluated on each paper once: the fetch that brings it
records them, and a sender's window and the preview take the hits from the records,
evaluating only what a record lacks (an interest written since the fetch)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import DatabaseError
from django.utils import timezone

from digest import analyses, evaluations, recent, sending, tasks
from digest.matching import Document, engine, evaluated
from digest.models import ClauseSet, Delivery, Paper, PaperAnalysis, PaperEvaluation
from groups import services as group_services
from subscriptions.models import Subscriber
from tests.digest.test_analyses import paper
from tests.digest.test_fetching import only_source
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluations_made(monkeypatch) -> list[tuple[str, str]]:
    """(paper id, clause text) of every clause the engine evaluates on a paper."""
    made: list[tuple[str, str]] = []
    real = engine.clause_hit

    def counted(clause, paper):
        made.append((paper.document.id, clause.text))
        return real(clause, paper)

    monkeypatch.setattr(engine, "clause_hit", counted)
    return made


@pytest.fixture
def analyses_read(monkeypatch) -> list[int]:
    """How many papers each read of stored analyses asked for."""
    asked: list[int] = []
    real = analyses.stored_analyses

    def counted(papers, **options):
        asked.append(len(papers))
        return real(papers, **options)

    monkeypatch.setattr(analyses, "stored_analyses", counted)
    return asked


def test_a_fetch_records_every_readers_interests_on_the_papers_it_brought(
    fixture_bytes, settings, make_subscriber
):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    make_subscriber(interests=("anomaly detection", "foundation models"))
    make_subscriber(email="gone@example.com", interests=("athletics",), status="unsubscribed")
    with serve() as server:
        source = only_source(
            server.url("/rss/cs.LG", Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")))
        )
        tasks.fetch_source.delay(source.pk)

    records = evaluations.records_of(list(Paper.objects.all()))
    assert set(records) == set(Paper.objects.values_list("canonical_id", flat=True))
    assert ClauseSet.objects.count() == 1
    # each hit as matched: two papers on anomaly detection, one on foundation models
    words = sorted(
        w.casefold() for r in records.values() for hit in r.hits.values() for w in hit.words
    )
    assert set(words) == {"anomaly detection", "foundation models"}
    assert sorted(len(record.hits) for record in records.values()) == [1, 1, 1]
    # an unsubscribed reader's interest is nobody's digest: not evaluated
    assert evaluations.readers_interests() == ["anomaly detection", "foundation models"]


def test_a_window_takes_the_records_and_reads_no_analysis(
    make_subscriber, ingested_papers, evaluations_made, analyses_read, monkeypatch
):
    monkeypatch.setattr(sending, "_windows", {})
    make_subscriber(interests=("anomaly detection",))
    assert evaluations.prepare_recent() == (3, 3)
    at_fetch = list(evaluations_made)
    assert at_fetch and analyses_read == [3]  # the fetch read the analyses it stored

    tasks.dispatch_digests()

    assert evaluations_made == at_fetch  # the window evaluated nothing again
    assert analyses_read == [3]  # ... and read no analysis
    assert Delivery.objects.get().status == Delivery.Status.SENT
    html = mail.outbox[0].alternatives[0][0]
    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in html


def test_an_interest_written_after_the_fetch_is_evaluated_by_the_window(
    make_subscriber, ingested_papers, evaluations_made, monkeypatch
):
    monkeypatch.setattr(sending, "_windows", {})
    make_subscriber(interests=("anomaly detection",))
    evaluations.prepare_recent()
    make_subscriber(email="new@example.com", interests=("foundation models",))
    evaluations_made.clear()

    tasks.dispatch_digests()

    assert {text for _, text in evaluations_made} == {"foundation models"}
    sent = {d.subscriber.email: d.paper_ids for d in Delivery.objects.select_related("subscriber")}
    assert len(sent["ada@example.com"]) == 2 and len(sent["new@example.com"]) == 1


def test_the_next_fetch_adds_an_interest_written_since_to_the_records(
    make_subscriber, ingested_papers, evaluations_made, analyses_read, monkeypatch
):
    monkeypatch.setattr(sending, "_windows", {})
    make_subscriber(interests=("anomaly detection",))
    evaluations.prepare_recent()
    make_subscriber(email="new@example.com", interests=("foundation models",))
    evaluations_made.clear()

    assert evaluations.record_recent() == 3  # each record lacked it
    assert {text for _, text in evaluations_made} == {"foundation models"}  # only it
    assert evaluations.record_recent() == 0  # nothing lacks anything now
    evaluations_made.clear()
    analyses_read.clear()
    tasks.dispatch_digests()

    assert evaluations_made == [] and analyses_read == []  # the window read the records
    sent = {d.subscriber.email: d.paper_ids for d in Delivery.objects.select_related("subscriber")}
    assert len(sent["ada@example.com"]) == 2 and len(sent["new@example.com"]) == 1


def test_a_paper_no_fetch_recorded_gets_its_record_from_the_window(
    make_subscriber, ingested_papers, monkeypatch
):
    monkeypatch.setattr(sending, "_windows", {})
    make_subscriber(interests=("anomaly detection",))
    analyses.store_recent()  # analysed, as before records were kept: none recorded
    assert not PaperEvaluation.objects.exists()

    tasks.dispatch_digests()

    records = evaluations.records_of(list(Paper.objects.all()))
    assert len(records) == 3
    assert sum(len(r.hits) for r in records.values()) == 2  # the two anomaly papers


def test_a_changed_text_is_evaluated_again_and_new_upvotes_are_not(
    make_subscriber, evaluations_made
):
    make_subscriber(interests=("graph neural networks", "diffusion models"))
    changed = paper("2401.00001", "Graph neural networks for molecules")
    evaluations.prepare_recent()
    assert evaluations.record_recent() == 0  # nothing new

    Paper.objects.filter(pk=changed.pk).update(upvotes=7, updated_at=timezone.now())
    assert evaluations.record_recent() == 0  # no clause reads upvotes
    changed.title = "Diffusion models for molecules"  # a new version's title
    changed.save()
    evaluations_made.clear()
    analyses.store_recent()

    assert evaluations.record_recent() == 1
    assert evaluations_made  # evaluated again, on the new text
    (record,) = evaluations.records_of([changed]).values()
    assert [hit.words for hit in record.hits.values()] == [("Diffusion models",)]


def test_a_record_of_another_text_or_analyser_is_not_read():
    first = paper("2401.00001", "Graph neural networks")
    clause_set = ClauseSet.objects.create(digest="x", clauses=evaluated.dumps_clauses([]))
    PaperEvaluation.objects.create(
        paper=first, key="0123456789abcdef-1-feedface", clause_set=clause_set, hits=b"old"
    )

    assert evaluations.records_of([first]) == {}
    assert evaluations.record_recent() == 1
    assert PaperEvaluation.objects.get().key == evaluated.key(Document.of(first))


def test_old_records_and_unused_clause_sets_are_deleted(settings):
    settings.PAPER_ANALYSIS_KEEP_DAYS = 30
    old = paper("2401.00001", "Graph neural networks", days_ago=40)
    kept = paper("2401.00002", "Diffusion models", days_ago=20)
    index = engine.PaperIndex(map(Document.of, [old, kept]), interests=["diffusion"])
    evaluations.record(index, [old, kept])  # a long-paused reader's window
    unused = ClauseSet.objects.create(digest="unused", clauses=evaluated.dumps_clauses([]))
    just_made = ClauseSet.objects.create(digest="new", clauses=evaluated.dumps_clauses([]))
    ClauseSet.objects.filter(pk=unused.pk).update(made_at=timezone.now() - timedelta(hours=2))

    evaluations.record_recent(days=8)

    assert list(PaperEvaluation.objects.values_list("paper__canonical_id", flat=True)) == [
        "2401.00002"
    ]
    left = set(ClauseSet.objects.values_list("digest", flat=True))
    assert "unused" not in left and "new" in left and len(left) == 2
    assert just_made.pk in ClauseSet.objects.values_list("pk", flat=True)


def test_a_groups_interests_are_recorded_and_a_closed_groups_are_not(make_subscriber):
    make_subscriber(interests=("graph neural networks",))
    for name, interests in (("open", ("diffusion models",)), ("closed", ("protein folding",))):
        group = group_services.create_group(
            "owner@lab.example",
            group_services.GroupSettings(
                name=name, interests=interests, frequency="daily", send_hour=8, time_zone="UTC"
            ),
        )
    group.status = group.Status.CLOSED
    group.save()

    assert evaluations.readers_interests() == ["diffusion models", "graph neural networks"]


def test_the_preview_takes_the_records_and_writes_none(make_subscriber, evaluations_made):
    make_subscriber(interests=("graph neural networks",))
    paper("2401.00001", "Graph neural networks for molecules")
    evaluations.prepare_recent()
    paper("2401.00002", "Graph neural networks for proteins")  # since the fetch
    evaluations_made.clear()
    recorded = PaperEvaluation.objects.count()

    index = recent.recent_index()

    assert index.match(["graph neural networks"]).total == 2
    # only the paper the fetch did not see is evaluated, and nothing is written
    assert {paper_id for paper_id, _ in evaluations_made} == {"2401.00002"}
    assert PaperEvaluation.objects.count() == recorded == 1
    assert PaperAnalysis.objects.count() == 1
    assert Subscriber.objects.count() == 1


def test_a_record_the_window_cannot_store_does_not_stop_the_digests(
    make_subscriber, ingested_papers, monkeypatch
):
    monkeypatch.setattr(sending, "_windows", {})
    make_subscriber(interests=("anomaly detection",))

    def refused(index, papers):
        raise DatabaseError("could not extend file")

    monkeypatch.setattr(evaluations, "record", refused)

    tasks.dispatch_digests()

    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert not PaperEvaluation.objects.exists()
