"""Recorded arXiv feeds become Paper rows: the right fields, and never twice."""

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from digest import ingest
from digest.models import Paper, Source
from digest.sources import FeedError, PaperRecord
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


def test_the_recorded_cs_lg_feed_becomes_three_papers_with_their_fields(fixture_bytes):
    summary = ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.LG.xml"), "arxiv_rss")

    assert (summary.new, summary.updated, summary.unchanged) == (3, 0, 0)
    paper = Paper.objects.get(canonical_id="2604.21952")
    assert paper.title == (
        "Focus Session: Hardware and Software Techniques for Accelerating "
        "Multimodal Foundation Models"
    )
    assert paper.abstract.startswith("This work presents a multi-layered methodology")
    assert "visual resolution & stride" in paper.abstract
    assert "Announce Type" not in paper.abstract
    assert paper.authors[:2] == ["Muhammad Shafique", "Abdul Basit"]
    assert len(paper.authors) == 6
    assert paper.categories == ["cs.LG", "cs.AI", "cs.AR", "cs.NE", "cs.RO"]
    assert paper.abs_url == "https://arxiv.org/abs/2604.21952"
    assert paper.pdf_url == "https://arxiv.org/pdf/2604.21952"
    assert paper.version == 1
    assert paper.published_at == datetime(2026, 4, 27, 4, 0, tzinfo=UTC)


def test_ingesting_the_same_feed_again_creates_no_duplicates_and_keeps_first_seen(
    fixture_bytes,
):
    feed = fixture_bytes("arxiv-rss-2026-cs.LG.xml")
    ingest.ingest_bytes(feed, "arxiv_rss")
    first_seen = dict(Paper.objects.values_list("canonical_id", "first_seen"))

    again = ingest.ingest_bytes(feed, "arxiv_rss")

    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert Paper.objects.count() == 3
    assert dict(Paper.objects.values_list("canonical_id", "first_seen")) == first_seen


def test_a_single_name_author_leaves_no_empty_name(fixture_bytes):
    ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.CL.xml"), "arxiv_rss")

    authors = [a for paper in Paper.objects.all() for a in paper.authors]
    assert "Deepti" in authors
    assert all(author.strip() == author and author for author in authors)


def test_a_broken_feed_changes_no_row(fixture_bytes):
    ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.LG.xml"), "arxiv_rss")
    truncated = fixture_bytes("arxiv-rss-2026-cs.CL.xml")[:1500]

    with pytest.raises(FeedError):
        ingest.ingest_bytes(truncated, "arxiv_rss")
    with pytest.raises(FeedError):
        ingest.ingest_bytes(b"<html><body>502 Bad Gateway</body></html>", "arxiv_rss")

    assert Paper.objects.count() == 3


def test_the_command_ingests_a_local_file_and_reports_what_it_did(capsys, tmp_path, fixture_bytes):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(fixture_bytes("arxiv-rss-2026-cs.LG.xml"))

    call_command("fetch_papers", "--file", str(feed))
    call_command("fetch_papers", "--file", str(feed))

    out = capsys.readouterr().out
    assert "3 new, 0 updated, 0 unchanged" in out
    assert "0 new, 0 updated, 3 unchanged" in out
    assert Paper.objects.count() == 3


def test_the_command_fails_clearly_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("fetch_papers", "--file", str(tmp_path / "nope.xml"))


def _only_source(url: str, name: str = "test feed") -> Source:
    Source.objects.all().delete()  # the default arXiv sources would go to the internet
    return Source.objects.create(name=name, url=url)


def test_fetching_a_source_over_http_ingests_it_then_asks_with_its_etag(fixture_bytes):
    routes = {"/rss/cs.LG": Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml"), etag='"v1"')}
    with serve(routes) as server:
        source = _only_source(f"{server.base}/rss/cs.LG")
        first = ingest.fetch_source(source)
        second = ingest.fetch_source(source)

    assert first.summary.new == 3
    assert second.not_modified
    source.refresh_from_db()
    assert (source.last_status, source.etag, source.last_error) == ("not_modified", '"v1"', "")
    assert server.requests[1]["If-None-Match"] == '"v1"'
    assert set(source.papers.values_list("canonical_id", flat=True)) == {
        "2604.21952",
        "2604.21953",
        "2604.21956",
    }


def test_a_failing_source_is_recorded_and_does_not_stop_the_others(fixture_bytes):
    routes = {
        "/broken": Route(status=503, body=b"Service Unavailable"),
        "/good": Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")),
    }
    with serve(routes) as server:
        _only_source(f"{server.base}/broken", name="a broken feed")
        Source.objects.create(name="b good feed", url=f"{server.base}/good")
        outcomes = ingest.fetch_enabled_sources()

    assert [bool(o.error) for o in outcomes] == [True, False]
    broken = Source.objects.get(name="a broken feed")
    assert broken.last_status == Source.Status.ERROR
    assert "503" in broken.last_error
    assert Paper.objects.count() == 3


def test_the_etag_of_a_feed_that_failed_to_parse_is_not_stored(fixture_bytes):
    full = fixture_bytes("arxiv-rss-2026-cs.LG.xml")
    routes = {"/feed": Route(body=full[:2000], etag='"truncated"')}
    with serve(routes) as server:
        source = _only_source(f"{server.base}/feed")
        failed = ingest.fetch_source(source)
        routes["/feed"] = Route(body=full, etag='"complete"')
        recovered = ingest.fetch_source(source)

    assert failed.error
    assert recovered.summary.new == 3
    source.refresh_from_db()
    assert source.etag == '"complete"'


def test_an_unreachable_source_is_an_error_on_the_source_not_a_crash(capsys):
    # Nothing listens on this port: the same as no network.
    _only_source("http://127.0.0.1:9/rss/cs.LG", name="offline")

    with pytest.raises(CommandError, match="1 source\\(s\\) failed: offline"):
        call_command("fetch_papers")

    source = Source.objects.get(name="offline")
    assert source.last_status == Source.Status.ERROR
    assert source.last_error


def test_a_new_version_updates_the_paper_and_an_older_one_never_overwrites_it():
    first = PaperRecord("2601.00001", "Old title", abstract="Old abstract.", version=1)
    newer = PaperRecord("2601.00001", "New title", abstract="New abstract.", version=2)
    ingest.upsert([first])
    first_seen = Paper.objects.get().first_seen

    updated = ingest.upsert([newer])
    stale = ingest.upsert([first])

    assert (updated.updated, stale.updated, stale.unchanged) == (1, 0, 1)
    paper = Paper.objects.get()
    assert (paper.title, paper.abstract, paper.version) == ("New title", "New abstract.", 2)
    assert paper.first_seen == first_seen
