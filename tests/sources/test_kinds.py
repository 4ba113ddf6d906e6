"""Every feed kind is known by its URL or its content, so people need not name it."""

from pathlib import Path

import pytest

from digest.sources import FeedError, kind_for_content, kind_for_url, parse

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://rss.arxiv.org/rss/cs.LG", "arxiv_rss"),
        ("https://rss.arxiv.org/atom/cs.LG+cs.AI", "arxiv_rss"),
        ("http://export.arxiv.org/rss/hep-ex", "arxiv_rss"),
        ("https://export.arxiv.org/api/query?search_query=cat:cs.LG", "arxiv_api"),
        ("https://huggingface.co/api/daily_papers", "hf_daily"),
        ("https://huggingface.co/papers/date/2026-11-27", "hf_page"),
        ("https://connect.biorxiv.org/biorxiv_xml/bioinformatics", "feed"),
        ("https://lab.example.org/feed.xml", "feed"),
        # A host that only ends like arXiv's or Hugging Face's is neither.
        ("https://evilarxiv.org/rss/cs.LG", "feed"),
        ("https://nothuggingface.co/api/daily_papers", "feed"),
    ],
)
def test_the_kind_of_a_url(url, kind):
    assert kind_for_url(url) == kind


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("arxiv-rss-2026-cs.LG.xml", "arxiv_rss"),
        ("arxiv-rss-atom-variant-2026-cs.LG.xml", "arxiv_rss"),
        ("arxiv-rss-empty-weekend.xml", "arxiv_rss"),
        ("arxiv-rss1-legacy-2018-hep-ex.xml", "arxiv_rss_legacy"),
        ("arxiv-api-atom-2026.xml", "arxiv_api"),
        ("arxiv-api-atom-classic-2016.xml", "arxiv_api"),
        ("hf-daily-papers-api.json", "hf_daily"),
        ("hf-papers-page-2024-08-01.html", "hf_page"),
        ("generic-biorxiv-style-rss1.xml", "feed"),
        ("generic-lab-blog-atom.xml", "feed"),
    ],
)
def test_the_kind_of_each_recorded_format_is_detected_and_it_parses(fixture, kind):
    data = (FIXTURES / fixture).read_bytes()

    assert kind_for_content(data) == kind
    records = parse(kind, data)
    assert fixture == "arxiv-rss-empty-weekend.xml" or records


@pytest.mark.parametrize(
    "data", [b"", b"PK\x03\x04 a zip file", b"<!DOCTYPE html><title>Not Found</title>"]
)
def test_content_of_no_known_kind_is_refused(data):
    with pytest.raises(FeedError, match="not a feed"):
        kind_for_content(data)


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(FeedError, match=r"unknown feed kind 'atom'.*arxiv_rss"):
        parse("atom", b"<feed/>")
