"""The arXiv RSS parser, on recorded feeds of rss.arxiv.org (2026)."""

from datetime import UTC, datetime

import pytest

from digest.sources import FeedError, arxiv_rss, parse
from digest.sources.text import clean_text

EMPTY_WEEKEND_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0"><channel>
<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<description>cs.LG updates on the arXiv.org e-print archive.</description>
<lastBuildDate>Sat, 25 Apr 2026 04:00:00 +0000</lastBuildDate>
<pubDate>Sat, 25 Apr 2026 00:00:00 -0400</pubDate>
<skipDays><day>Saturday</day><day>Sunday</day></skipDays>
</channel></rss>"""

ERROR_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Feed error for query: cs.XX</title>
<link>http://rss.arxiv.org/rss/cs.XX</link>
<description>Bad archive or category: cs.XX</description></channel></rss>"""


def by_id(records):
    return {record.canonical_id: record for record in records}


def test_it_reads_every_field_of_a_new_announcement(fixture_bytes):
    records = arxiv_rss.parse(fixture_bytes("arxiv-rss-2026-cs.LG.xml"))

    assert [r.canonical_id for r in records] == ["2604.21952", "2604.21953", "2604.21956"]
    paper = records[1]
    assert paper.title == (
        "Performance Anomaly Detection in Athletics: A Benchmarking System with Visual Analytics"
    )
    assert paper.abstract.startswith("Anti-doping programs rely on biological testing")
    assert "costs over $800 per sample" in paper.abstract
    assert paper.authors == ["Blessed Madukoma", "Prasenjit Mitra"]
    assert paper.categories == ["cs.LG", "cs.CY"]
    assert paper.version == 1
    assert paper.announce_type == "new"
    assert paper.published == datetime(2026, 4, 27, 4, 0, tzinfo=UTC)
    assert paper.abs_url == "https://arxiv.org/abs/2604.21953"
    assert paper.pdf_url == "https://arxiv.org/pdf/2604.21953"


def test_it_strips_the_announce_prefix_and_decodes_entities(fixture_bytes):
    paper = arxiv_rss.parse(fixture_bytes("arxiv-rss-2026-cs.LG.xml"))[0]

    assert paper.abstract.startswith("This work presents a multi-layered methodology")
    assert "visual resolution & stride" in paper.abstract
    assert "\n" not in paper.abstract


def test_a_single_name_author_in_dc_creator_is_kept_without_stray_spaces(fixture_bytes):
    records = by_id(arxiv_rss.parse(fixture_bytes("arxiv-rss-2026-cs.CL.xml")))

    assert records["2604.22002"].authors[1:3] == ["Ratna Kandala", "Deepti"]


def test_cross_lists_and_replacements_carry_their_type_and_version(fixture_bytes):
    records = by_id(arxiv_rss.parse(fixture_bytes("arxiv-rss-2026-multicat-cross-replace.xml")))

    cross, replace = records["2205.06398"], records["2009.13987"]
    assert (cross.announce_type, cross.version) == ("cross", 2)
    assert cross.categories[0] == "stat.ME"
    assert (replace.announce_type, replace.version) == ("replace", 3)
    assert records["2609.26811"].announce_type == "new"


def test_an_empty_weekend_feed_is_no_papers_and_no_error():
    assert arxiv_rss.parse(EMPTY_WEEKEND_FEED) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty response"),
        (b"   \n", "empty response"),
        (b"<html><head><title>502</title></head><body>Bad Gateway</body></html>", "not an RSS"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not"),
        (ERROR_FEED, "Bad archive or category: cs.XX"),
    ],
)
def test_what_is_not_a_feed_raises_a_feed_error_saying_why(data, reason):
    with pytest.raises(FeedError, match=reason):
        arxiv_rss.parse(data)


def test_a_truncated_download_is_refused_whole_not_half_read(fixture_bytes):
    feed = fixture_bytes("arxiv-rss-2026-cs.LG.xml")

    with pytest.raises(FeedError, match="not well-formed"):
        arxiv_rss.parse(feed[: len(feed) * 2 // 3])


def test_an_unknown_kind_is_a_clear_error():
    with pytest.raises(FeedError, match="unknown feed kind 'gopher'"):
        parse("gopher", b"")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Deep\n   learning  ", "Deep learning"),
        ("<p>Graph <b>neural</b> networks</p>", "Graph neural networks"),
        ("$2.6&amp;lt;\\eta&amp;lt;4$", "$2.6<\\eta<4$"),
        ("a $\\times$ b \\textbf{x}", "a $\\times$ b \\textbf{x}"),
        ("", ""),
    ],
)
def test_feed_text_becomes_clean_text_and_latex_stays_readable(raw, clean):
    assert clean_text(raw) == clean
