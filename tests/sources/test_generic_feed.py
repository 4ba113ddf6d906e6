"""Any RSS or Atom feed: papers keyed on their arXiv id, DOI or link; text made plain."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.sources import FeedError, generic_feed

FIXTURES = Path(__file__).parent.parent / "fixtures"


def papers(name: str) -> dict:
    return {p.canonical_id: p for p in generic_feed.parse((FIXTURES / name).read_bytes())}


def test_a_biorxiv_style_rss1_feed_is_keyed_on_doi_with_its_fields():
    found = papers("generic-biorxiv-style-rss1.xml")

    assert list(found) == ["doi:10.1101/2026.09.12.675901", "doi:10.1101/2026.09.10.675512"]
    paper = found["doi:10.1101/2026.09.12.675901"]
    assert paper.title == "Protein language models & the de novo design of enzymes"
    assert paper.doi == "10.1101/2026.09.12.675901"
    assert paper.abs_url == "http://biorxiv.org/cgi/content/short/2026.09.12.675901v1?rss=1"
    assert paper.authors == ["Okafor, C.", "Lindqvist, M.", "Tanaka, H."]
    assert paper.published == datetime(2026, 9, 14, tzinfo=UTC)
    assert paper.version is None


def test_feed_html_becomes_plain_text_with_math_and_no_script():
    paper = papers("generic-biorxiv-style-rss1.xml")["doi:10.1101/2026.09.12.675901"]

    assert paper.abstract == (
        "Protein language models (PLMs) learn from sequences alone. We show that PLMs "
        "fine-tuned on 12,000 enzymes design active variants with $k_{cat} < 10$ in 3 of 5 "
        "families."
    )
    assert "<" not in paper.abstract.replace("$k_{cat} < 10$", "")


def test_a_lab_blog_post_about_an_arxiv_paper_merges_on_the_arxiv_id():
    found = papers("generic-lab-blog-atom.xml")

    paper = found["2609.01234"]
    assert paper.version == 2
    assert paper.abs_url == "https://arxiv.org/abs/2609.01234"
    assert paper.pdf_url == "https://arxiv.org/pdf/2609.01234"
    assert paper.title == "Sparse Mixture-of-Experts at the edge (NeurIPS 2026)"
    # The full <content>, not the teaser; links in it cite other papers and are not its id.
    assert paper.abstract.startswith("Our Mixture-of-Experts router cuts energy use by 40%")
    assert "prior work needed a GPU" in paper.abstract
    assert "onerror" not in paper.abstract
    assert paper.authors == ["Ines Duarte", "Kofi Mensah"]
    assert paper.categories == ["machine learning"]
    assert paper.published == datetime(2026, 9, 19, 7, 30, tzinfo=UTC)


def test_entries_without_a_paper_id_use_their_link_and_untitled_ones_are_left_out():
    found = papers("generic-lab-blog-atom.xml")

    assert set(found) == {"2609.01234", "url:lab.example.org/posts/retreat-2026"}
    assert found["url:lab.example.org/posts/retreat-2026"].published == datetime(
        2026, 9, 1, 8, tzinfo=UTC
    )


def test_an_arxiv_feed_also_reads_as_a_generic_feed_with_the_same_ids():
    found = papers("arxiv-rss-2026-cs.LG.xml")

    assert set(found) == {"2604.21952", "2604.21953", "2604.21956"}
    assert all(p.abs_url == f"https://arxiv.org/abs/{key}" for key, p in found.items())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty response"),
        (b"<html><title>Service Unavailable</title></html>", "got an HTML page"),
        (b"<rss><channel><title>x</title><item><title>a", "not well-formed XML"),
        (b'{"papers": []}', "not well-formed XML"),
    ],
)
def test_what_is_not_a_feed_is_refused_with_the_reason(data, reason):
    with pytest.raises(FeedError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        generic_feed.parse(data)
