"""Recorded arXiv feeds become Paper rows: the right fields, and never twice."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from digest import compose, ingest, tasks
from digest.models import Paper, Source
from digest.sources import FeedError, PaperRecord
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _feeds_served_locally(settings):
    """The feed servers of these tests listen on 127.0.0.1, which fetches otherwise refuse."""
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]


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
        "/broken": Route(status=403, body=b"Forbidden"),
        "/good": Route(body=fixture_bytes("arxiv-rss-2026-cs.LG.xml")),
    }
    with serve(routes) as server:
        _only_source(f"{server.base}/broken", name="a broken feed")
        Source.objects.create(name="b good feed", url=f"{server.base}/good")
        enqueued = tasks.fetch_all_sources.delay().get()

    assert enqueued == 2
    assert Source.objects.get(name="b good feed").last_status == Source.Status.OK
    broken = Source.objects.get(name="a broken feed")
    assert broken.last_status == Source.Status.ERROR
    assert "HTTP 403" in broken.last_error
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


def test_a_replacement_of_an_unknown_paper_is_stored_but_never_news():
    replace = PaperRecord("2009.13987", "An old paper, v3", version=3, announce_type="replace")
    before = timezone.now() - timedelta(seconds=1)

    summary = ingest.upsert([replace])

    assert summary.new == 1
    paper = Paper.objects.get()
    assert not paper.announced_as_new
    assert not compose.papers_first_seen_between(before, timezone.now()).exists()


def test_a_replacement_later_announced_as_news_is_mailed_from_then_on():
    ingest.upsert([PaperRecord("2009.13987", "Old", version=3, announce_type="replace-cross")])
    hidden_since = Paper.objects.get().first_seen

    ingest.upsert([PaperRecord("2009.13987", "Old", announce_type="cross", version=3)])

    paper = Paper.objects.get()
    assert paper.announced_as_new
    assert paper.first_seen > hidden_since
    assert compose.papers_first_seen_between(hidden_since, timezone.now()).get() == paper


def test_a_replacement_of_a_known_paper_updates_it_and_is_not_news_again():
    ingest.upsert([PaperRecord("2604.00001", "Title v1", version=1, announce_type="new")])
    first_seen = Paper.objects.get().first_seen

    summary = ingest.upsert(
        [PaperRecord("2604.00001", "Title v2", version=2, announce_type="replace")]
    )

    paper = Paper.objects.get()
    assert summary.updated == 1
    assert (paper.title, paper.version, paper.first_seen) == ("Title v2", 2, first_seen)
    assert paper.announced_as_new


def test_the_same_paper_from_arxiv_and_hugging_face_is_one_row_with_both_sources():
    arxiv = Source.objects.create(name="arXiv test", url="https://rss.arxiv.org/rss/cs.LG")
    hugging_face = Source.objects.create(
        name="HF test", url="https://huggingface.co/api/daily_papers", kind="hf_daily"
    )
    from_arxiv = PaperRecord(
        "2604.21952", "Focus Session", abstract="From arXiv.", version=2, doi="10.1/x"
    )
    from_hf = PaperRecord(
        "2604.21952",
        "Focus session (HF title)",
        abstract="From HF.",
        upvotes=12,
        comments=3,
        hf_url="https://huggingface.co/papers/2604.21952",
    )

    ingest.upsert([from_arxiv], arxiv)
    ingest.upsert([from_hf], hugging_face)

    paper = Paper.objects.get()
    assert set(paper.sources.all()) == {arxiv, hugging_face}
    # arXiv's versioned description stays; Hugging Face adds what only it knows.
    assert (paper.title, paper.abstract, paper.doi) == ("Focus Session", "From arXiv.", "10.1/x")
    assert (paper.upvotes, paper.comments) == (12, 3)
    assert paper.hf_url == "https://huggingface.co/papers/2604.21952"


def test_hugging_face_counts_are_updated_every_fetch_even_to_zero():
    ingest.upsert([PaperRecord("2606.00467", "A paper", upvotes=7, comments=2)])

    summary = ingest.upsert([PaperRecord("2606.00467", "A paper", upvotes=9, comments=0)])

    assert summary.updated == 1
    assert Paper.objects.values_list("upvotes", "comments").get() == (9, 0)


def test_a_paper_first_seen_late_is_still_news_when_it_arrives():
    # first_seen is when Paperboy learned of it, not when arXiv published it.
    published = timezone.now() - timedelta(days=20)
    before = timezone.now() - timedelta(seconds=1)

    ingest.upsert([PaperRecord("2605.00001", "Late", published=published, announce_type="new")])

    assert compose.papers_first_seen_between(before, timezone.now()).count() == 1


def test_markup_in_a_feed_abstract_is_stored_as_plain_text_without_handlers(
    fixture_bytes,
):
    ingest.ingest_bytes(fixture_bytes("generic-lab-blog-atom.xml"), "feed")

    paper = Paper.objects.get(canonical_id="2609.01234")
    assert "onerror" not in paper.abstract and "<img" not in paper.abstract


# --- Who describes a paper (issue 11, finding 3) ---


def atom_entry(link: str, title: str, summary: str = "Rewritten.", author: str = "Mallory") -> str:
    return (
        f'<entry><title>{title}</title><link href="{link}" rel="alternate"/>'
        f"<id>{link}</id><updated>2026-11-30T00:00:00Z</updated>"
        f"<author><name>{author}</name></author><summary>{summary}</summary></entry>"
    )


def atom_feed(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Somebody's feed</title><id>https://feed.example/</id>"
        f"<updated>2026-11-30T00:00:00Z</updated>{''.join(entries)}</feed>"
    ).encode()


def described(canonical_id: str) -> tuple:
    paper = Paper.objects.get(canonical_id=canonical_id)
    return (paper.title, paper.abstract, paper.authors, paper.categories, paper.version)


@pytest.mark.parametrize(
    "link",
    [
        # The link of the security report: another site, arXiv's URL in its query.
        "https://evil.example/hijack?ref=arxiv.org/abs/2604.21952v99",
        # A real arXiv link with a version arXiv never announced: still not arXiv speaking.
        "https://arxiv.org/abs/2604.21952v99",
    ],
)
def test_a_feed_that_is_not_arxiv_changes_nothing_of_an_arxiv_paper(fixture_bytes, link):
    ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.LG.xml"), "arxiv_rss")
    before = described("2604.21952")
    feed = Source.objects.create(name="a lab", url="https://feed.example/atom", kind="feed")
    hijack = atom_feed(atom_entry(link, "HIJACKED: buy now"))

    with serve({"/atom": Route(body=hijack)}) as server:
        feed.url = f"{server.base}/atom"
        feed.save()
        outcome = ingest.fetch_source(feed)

    assert not outcome.error
    assert described("2604.21952") == before  # title, abstract, authors, categories, version 1


def test_a_paper_another_feed_brought_first_is_described_by_arxiv_when_arxiv_announces_it(
    fixture_bytes,
):
    blog = atom_feed(atom_entry("https://arxiv.org/abs/2604.21952v7", "A blog's own title"))
    ingest.ingest_bytes(blog, "feed")
    early = Paper.objects.get(canonical_id="2604.21952")
    assert (early.title, early.version) == ("A blog's own title", None)  # its version never counts
    assert early.abs_url == "https://arxiv.org/abs/2604.21952"

    ingest.ingest_bytes(fixture_bytes("arxiv-rss-2026-cs.LG.xml"), "arxiv_rss")

    paper = Paper.objects.get(canonical_id="2604.21952")
    assert paper.title.startswith("Focus Session: Hardware and Software Techniques")
    assert paper.authors[:2] == ["Muhammad Shafique", "Abdul Basit"]
    assert paper.version == 1
    assert paper.first_seen == early.first_seen
