"""The arXiv RSS 2.0 parser, on feeds recorded from rss.arxiv.org (2026) and small
hand-made items for the edge cases the recordings lack."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from digest.sources import FeedError, PaperRecord, arxiv_rss, arxiv_rss_legacy
from digest.sources.text import clean_text

FIXTURES = Path(__file__).parents[1] / "fixtures"

MULTICAT = "arxiv-rss-2026-multicat-cross-replace.xml"


def parse_fixture(name: str) -> dict[str, PaperRecord]:
    return {record.canonical_id: record for record in arxiv_rss.parse(read(name))}


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def feed_of(*items: str, title: str = "cs.LG updates on arXiv.org") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
 version="2.0"><channel><title>{title}</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<description>cs.LG updates on the arXiv.org e-print archive.</description>
{"".join(items)}</channel></rss>""".encode()


def item(
    guid: str = "oai:arXiv.org:2604.99999v1",
    link: str = "https://arxiv.org/abs/2604.99999",
    title: str = "A Title",
    description: str = "arXiv:2604.99999v1 Announce Type: new \nAbstract: An abstract.",
    creator: str = "Ada Lovelace",
    extra: str = "<arxiv:announce_type>new</arxiv:announce_type>",
) -> str:
    return f"""<item><title>{title}</title><link>{link}</link>
<description>{description}</description><guid isPermaLink="false">{guid}</guid>
<category>cs.LG</category><pubDate>Mon, 27 Apr 2026 00:00:00 -0400</pubDate>
{extra}<dc:creator>{creator}</dc:creator></item>"""


# --- the recorded feeds ---


def test_it_reads_every_field_of_a_new_announcement():
    paper = parse_fixture("arxiv-rss-2026-cs.LG.xml")["2604.21953"]

    assert paper.title == (
        "Performance Anomaly Detection in Athletics: A Benchmarking System with Visual Analytics"
    )
    assert paper.authors == ["Blessed Madukoma", "Prasenjit Mitra"]
    assert paper.categories == ["cs.LG", "cs.CY"]
    assert (paper.version, paper.announce_type) == (1, "new")
    assert paper.abs_url == "https://arxiv.org/abs/2604.21953"
    assert paper.pdf_url == "https://arxiv.org/pdf/2604.21953"
    assert paper.upvotes is None


def test_it_keeps_the_items_in_feed_order():
    records = arxiv_rss.parse(read("arxiv-rss-2026-cs.LG.xml"))

    assert [r.canonical_id for r in records] == ["2604.21952", "2604.21953", "2604.21956"]


def test_it_strips_the_announce_prefix_from_the_abstract():
    papers = parse_fixture("arxiv-rss-2026-cs.LG.xml")

    assert papers["2604.21952"].abstract.startswith(
        "This work presents a multi-layered methodology for efficiently accelerating"
    )
    assert papers["2604.21953"].abstract.startswith("Anti-doping programs rely on")
    for paper in papers.values():
        assert "Announce Type" not in paper.abstract
        assert "Abstract:" not in paper.abstract
        assert "\n" not in paper.abstract


def test_it_decodes_the_escaped_ampersand_and_keeps_dollar_signs():
    papers = parse_fixture("arxiv-rss-2026-cs.LG.xml")

    assert "visual resolution & stride" in papers["2604.21952"].abstract
    assert "costs over $800 per sample" in papers["2604.21953"].abstract


def test_it_splits_dc_creator_and_folds_the_double_space_of_a_single_name_author():
    paper = parse_fixture("arxiv-rss-2026-cs.CL.xml")["2604.22002"]

    assert paper.authors == [
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
        "Joyojeet Pal",
    ]


def test_it_keeps_categories_in_feed_order():
    paper = parse_fixture("arxiv-rss-2026-cs.LG.xml")["2604.21952"]

    assert paper.categories == ["cs.LG", "cs.AI", "cs.AR", "cs.NE", "cs.RO"]


def test_new_cross_and_replace_announcements_carry_their_type_and_version():
    papers = parse_fixture(MULTICAT)

    assert {pid: (p.announce_type, p.version) for pid, p in papers.items()} == {
        "2609.26811": ("new", 1),
        "2609.26820": ("new", 1),
        "2205.06398": ("cross", 2),
        "2009.13987": ("replace", 3),
    }


def test_a_cross_list_lists_the_papers_own_primary_category_first():
    cross = parse_fixture(MULTICAT)["2205.06398"]

    assert cross.categories == ["stat.ME", "stat.AP", "stat.ML"]
    assert cross.title == "Outlier Detection for Multi-Network Data"
    assert cross.authors == ["Pritam Dey", "Zhengwu Zhang", "David B. Dunson"]
    assert cross.abstract.startswith("It has become routine in neuroscience studies")


def test_the_atom_flavour_of_the_same_feed_reads_the_same_way():
    papers = parse_fixture("arxiv-rss-atom-variant-2026-cs.LG.xml")

    assert list(papers) == ["2609.28553", "2402.10149", "2401.08875"]
    new, cross, replace = papers.values()
    assert (new.announce_type, cross.announce_type, replace.announce_type) == (
        "new",
        "cross",
        "replace",
    )
    assert (new.version, replace.version) == (1, 3)
    assert replace.is_replacement and not cross.is_replacement and not new.is_replacement
    assert new.abstract.startswith("Drug toxicity prediction is critical")
    assert new.authors[0] == "Quang Minh Nguyen" and len(new.authors) == 6
    assert new.doi == "10.1109/mapr72750.2026.11685822"
    assert new.journal_ref.startswith("2026 International Conference on Multimedia Analysis")
    assert cross.categories == ["hep-ph", "cs.LG", "hep-ex"]
    # <updated> is when the feed was generated; <published> is the announcement.
    assert new.published == datetime(2026, 9, 25, 4, 0, tzinfo=UTC)


def test_the_rss_flavour_carries_the_doi_of_a_cross_list():
    cross = parse_fixture(MULTICAT)["2205.06398"]

    assert cross.doi == "10.1093/bioinformatics/btac431"


def test_published_is_the_announcement_time_and_timezone_aware():
    replace = parse_fixture(MULTICAT)["2009.13987"]

    # An old paper (2020) announced again: the date is today's announcement.
    assert replace.published == datetime(2026, 9, 24, 4, 0, tzinfo=UTC)
    assert replace.published.utcoffset() == timedelta(hours=-4)


def test_an_empty_weekend_feed_is_no_papers_and_no_error():
    assert arxiv_rss.parse(read("arxiv-rss-empty-weekend.xml")) == []


# --- edge cases, hand-made ---


def test_old_style_ids_keep_their_archive_and_lose_their_version():
    feed = feed_of(
        item(guid="oai:arXiv.org:hep-th/9901001v2", link="https://arxiv.org/abs/hep-th/9901001")
    )

    (paper,) = arxiv_rss.parse(feed)
    assert (paper.canonical_id, paper.version) == ("hep-th/9901001", 2)
    assert paper.pdf_url == "https://arxiv.org/pdf/hep-th/9901001"


def test_without_a_guid_the_id_comes_from_the_link():
    (paper,) = arxiv_rss.parse(feed_of(item(guid="", link="https://arxiv.org/abs/2604.21952")))

    assert (paper.canonical_id, paper.version) == ("2604.21952", None)


def test_items_without_an_arxiv_id_are_skipped():
    feed = feed_of(item(guid="tag:example.org,2026:1", link="https://example.org/post"), item())

    assert [p.canonical_id for p in arxiv_rss.parse(feed)] == ["2604.99999"]


def test_math_with_less_than_signs_survives_in_title_and_abstract():
    feed = feed_of(
        item(
            title="Bounds for $k&lt;n$ &amp; $a&lt;b$",
            description=(
                "arXiv:2604.99999v1 Announce Type: new \nAbstract: "
                "We show $a&lt;b$ and $c &gt; d$ with $\\times$ and \\textbf{care}."
            ),
        )
    )

    (paper,) = arxiv_rss.parse(feed)
    assert paper.title == "Bounds for $k<n$ & $a<b$"
    assert paper.abstract == "We show $a<b$ and $c > d$ with $\\times$ and \\textbf{care}."


def test_affiliations_in_parentheses_stay_with_their_author():
    (paper,) = arxiv_rss.parse(feed_of(item(creator="Ann Lee (MIT, Harvard), Bob  Smith,  ")))

    assert paper.authors == ["Ann Lee (MIT, Harvard)", "Bob Smith"]


def test_the_announce_type_falls_back_to_the_folded_description_prefix():
    description = "arXiv:2604.99999v3 Announce Type: replace-cross Abstract: Text."
    (paper,) = arxiv_rss.parse(feed_of(item(description=description, extra="")))

    assert (paper.announce_type, paper.abstract) == ("replace-cross", "Text.")


# --- what is not a feed ---


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty response"),
        (b"  \n ", "empty response"),
        (
            b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
            b"<body><h1>Service Unavailable<br></body></html>",
            # Not the page's title: whatever a server says stays out of errors.
            r"got an HTML page$",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not an RSS/Atom feed"),
        (b'{"error": "rate limited"}', "not an RSS/Atom feed"),
        (b"<?xml version='1.0'?><config><item/></config>", "not an RSS/Atom feed"),
    ],
)
def test_what_is_not_a_feed_raises_a_feed_error_saying_why(data, reason):
    with pytest.raises(FeedError, match=reason):
        arxiv_rss.parse(data)


def test_a_truncated_download_is_refused_whole_not_half_read():
    feed = read("arxiv-rss-2026-cs.LG.xml")

    # Cut after the first item: feedparser's lenient fallback would return it alone.
    with pytest.raises(FeedError, match="not well-formed XML"):
        arxiv_rss.parse(feed[: feed.index(b"</item>") + 300])


def test_arxivs_feed_error_for_query_raises_with_its_reason():
    error_feed = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Feed error for query: cs.XX</title>
<link>http://rss.arxiv.org/rss/cs.XX</link>
<description>Bad archive or category: cs.XX</description></channel></rss>"""

    with pytest.raises(FeedError, match="arXiv answered with an error: Bad archive or category"):
        arxiv_rss.parse(error_feed)


def test_bytes_that_name_a_file_are_not_read_from_disk():
    # Handed raw bytes, feedparser would open an existing path they name.
    path = str(FIXTURES / "arxiv-rss-2026-cs.LG.xml").encode()

    with pytest.raises(FeedError):
        arxiv_rss.parse(path)


def test_an_unexpected_failure_inside_feedparser_still_is_a_feed_error(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(feedparser, "parse", broken)

    with pytest.raises(FeedError, match=r"could not read the feed \(RuntimeError\)$"):
        arxiv_rss.parse(read("arxiv-rss-2026-cs.LG.xml"))


def test_a_str_is_a_callers_mistake_not_a_feed():
    with pytest.raises(TypeError, match="bytes"):
        arxiv_rss.parse("https://rss.arxiv.org/rss/cs.LG")  # type: ignore[arg-type]


# --- clean_text, shared by the parsers ---


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("", ""),
        ("  Deep\n   learning \t ", "Deep learning"),
        ("<p>Graph <b>neural</b> networks</p><p>Second</p>", "Graph neural networks Second"),
        ("H<sub>2</sub>O", "H2O"),
        ("a $\\times$ b \\textbf{x}", "a $\\times$ b \\textbf{x}"),
        ("$k<n$ and $a<b$ and $c>d$", "$k<n$ and $a<b$ and $c>d$"),
        ("Q&A, AT&T &amp; R&D", "Q&A, AT&T & R&D"),
        ("&eacute;t&#233; &#x41;", "été A"),
        ("$2.6&amp;lt;\\eta&amp;lt;4$", "$2.6<\\eta<4$"),
    ],
)
def test_clean_text_gives_plain_text_and_leaves_latex_alone(raw, clean):
    assert clean_text(raw) == clean


def test_a_legacy_rdf_feed_at_an_arxiv_rss_url_is_read_in_its_own_format():
    legacy = read("arxiv-rss1-legacy-2018-hep-ex.xml")

    assert arxiv_rss.parse(legacy) == arxiv_rss_legacy.parse(legacy)
    assert "(arXiv:" not in arxiv_rss.parse(legacy)[0].title
