"""The legacy arXiv RSS 1.0 (RDF) parser and the arXiv API parser, on answers recorded
from arXiv (copied unchanged from the reference feeds) and small hand-made feeds for
what the recordings lack: API errors, empty answers, optional elements."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest.sources import FeedError, Page, PaperRecord, arxiv_api, arxiv_rss_legacy

FIXTURES = Path(__file__).parents[1] / "fixtures"

LEGACY_2018 = "arxiv-rss1-legacy-2018-hep-ex.xml"
LEGACY_2021 = "arxiv-rss1-legacy-2021-hep-ex-placeholder-abstracts.xml"
API_CLASSIC = "arxiv-api-atom-classic-2016.xml"
API_2026 = "arxiv-api-atom-2026.xml"

CHICAGO_SUMMER = timezone(timedelta(hours=-5))


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_id(records: list[PaperRecord]) -> dict[str, PaperRecord]:
    return {record.canonical_id: record for record in records}


def rdf_of(*items: str, date: str = "2018-05-23T20:30:00-05:00") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://arxiv.org/"><title>hep-ex updates on arXiv.org</title>
<link>http://arxiv.org/</link><description>hep-ex updates</description>
<dc:date>{date}</dc:date></channel>
{"".join(items)}</rdf:RDF>""".encode()


def rdf_item(
    about: str = "http://arxiv.org/abs/1805.99999",
    title: str = "A Title. (arXiv:1805.99999v1 [hep-ex])",
    description: str = "&lt;p&gt;An abstract.&lt;/p&gt;",
    creator: str = "Ann Lee",
) -> str:
    return f"""<item rdf:about="{about}"><title>{title}</title><link>{about}</link>
<description>{description}</description><dc:creator>{creator}</dc:creator></item>"""


def api_feed(*entries: str, total: int = 1, start: int = 0, per_page: int = 10) -> bytes:
    """An answer in the current (2026) layout: namespaces on <feed>, opensearch first."""
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
 xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/abc</id>
  <title>arXiv Query: search_query=cat:cs.LG&amp;id_list=&amp;start=0&amp;max_results=10</title>
  <updated>2026-06-14T02:30:47Z</updated>
  <link href="https://arxiv.org/api/query?search_query=cat:cs.LG" type="application/atom+xml"/>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
  {"".join(entries)}
</feed>""".encode()


# The error answer as arXiv's API manual shows it (section "Errors"): one entry, an
# errors# id, the title "Error" and the reason in the summary; classic layout.
API_ERROR = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <link href="http://arxiv.org/api/query?search_query=&amp;id_list=1234.12345" rel="self"
   type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=&amp;id_list=1234.12345</title>
  <id>http://arxiv.org/api/kvuntZ8c9a4Eq5CF7KY03nMug+Q</id>
  <updated>2007-10-12T00:00:00-04:00</updated>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <updated>2007-10-12T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345"
     rel="alternate" type="text/html"/>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>"""


# --- legacy RSS 1.0: the 2018 hep-ex feed ---


def test_legacy_reads_every_item_of_the_2018_feed_in_order():
    records = arxiv_rss_legacy.parse(read(LEGACY_2018))

    assert [(r.canonical_id, r.version, r.announce_type, r.categories) for r in records] == [
        ("1805.08875", 1, "new", ["hep-ex"]),
        ("1805.09166", 1, "cross", ["hep-ex"]),
        # An UPDATED item names the paper's own primary category, not the feed's.
        ("1805.06430", 2, "replace", ["nucl-th"]),
    ]
    assert [r.title for r in records] == [
        "Measurement of Transverse Single Spin Asymmetries",
        "Recent Top quark results from the Tevatron",
        "New Perspective on Hybrid Mesons",
    ]
    assert [r.is_replacement for r in records] == [False, False, True]


def test_legacy_authors_are_the_anchor_texts():
    papers = by_id(arxiv_rss_legacy.parse(read(LEGACY_2018)))

    # "(STAR Collaboration)" follows the link: a suffix, not a second author.
    assert papers["1805.08875"].authors == ["Christopher Dilks"]
    assert papers["1805.09166"].authors == ["Boris Tuchming"]
    assert papers["1805.06430"].authors == [
        "Shu-Sheng Xu",
        "Zhu-Fang Cui",
        "Lei Chang",
        "Joannis Papavassiliou",
        "Craig D. Roberts",
        "Hong-Shi Zong",
    ]


def test_legacy_abstract_is_unescaped_twice_and_folded():
    abstract = by_id(arxiv_rss_legacy.parse(read(LEGACY_2018)))["1805.08875"].abstract

    # "&amp;lt;" in the XML: one pass for XML, one for the HTML inside it.
    assert "psuedorapidity range of $2.6<\\eta<4$. Within this kinematic range" in abstract
    assert abstract.startswith(
        "In 2015 the first collisions between polarized protons and nuclei occurred at "
        "the Relativistic Heavy Ion Collider (RHIC)"
    )
    assert abstract.endswith(
        "This talk will compare these dependences to those in $p+A$ production."
    )
    assert "$\\sqrt{s_{NN}}=200$ GeV" in abstract
    for leftover in ("\n", "  ", "&lt;", "&amp;", "<p>", "</p>"):
        assert leftover not in abstract


def test_legacy_short_abstracts_and_links():
    papers = by_id(arxiv_rss_legacy.parse(read(LEGACY_2018)))

    assert papers["1805.09166"].abstract == "We present recent measurements"
    assert papers["1805.06430"].abstract == (
        "It is thought that strong interactions within the Standard Model can generate "
        "bound-states in which non-Abelian gauge-bosons play a dual role, serving both "
        "as force and matter fields."
    )
    assert papers["1805.06430"].abs_url == "https://arxiv.org/abs/1805.06430"
    assert papers["1805.06430"].pdf_url == "https://arxiv.org/pdf/1805.06430"
    assert (papers["1805.06430"].doi, papers["1805.06430"].journal_ref) == ("", "")


def test_legacy_published_is_the_channel_date_for_every_item():
    records = arxiv_rss_legacy.parse(read(LEGACY_2018))

    expected = datetime(2018, 5, 23, 20, 30, tzinfo=CHICAGO_SUMMER)
    assert [r.published for r in records] == [expected] * 3
    assert records[0].published == datetime(2018, 5, 24, 1, 30, tzinfo=UTC)
    assert records[0].published.utcoffset() == timedelta(hours=-5)


# --- legacy RSS 1.0: the 2021 feed (real titles and creators, placeholder abstracts) ---


def test_legacy_reads_every_item_of_the_2021_feed():
    records = arxiv_rss_legacy.parse(read(LEGACY_2021))

    assert [(r.canonical_id, r.version, r.announce_type, r.categories) for r in records] == [
        ("2107.03419", 1, "new", ["hep-ex"]),
        ("2106.00550", 2, "cross", ["math.GR"]),
        ("2007.03939", 2, "replace", ["hep-ph"]),
    ]
    assert [r.title for r in records] == [
        "Observation of excited $\\Omega_c^0$ baryons in "
        "$\\Omega_b^- \\to \\Xi_c^+ K^-\\pi^-$ decays",
        "Potential applications of modular representation theory to quantum mechanics",
        "Fireball tomography from bottomonia elliptic flow in relativistic heavy-ion collisions",
    ]
    assert [r.abstract for r in records] == ["desc1", "desc2", "desc3"]
    assert records[0].published == datetime(2021, 7, 8, 20, 30, tzinfo=CHICAGO_SUMMER)


def test_legacy_drops_the_additional_authors_tail():
    papers = by_id(arxiv_rss_legacy.parse(read(LEGACY_2021)))

    assert papers["2107.03419"].authors == ["LHCb collaboration", "R. Aaij"]
    assert papers["2106.00550"].authors == ["Robert A. Wilson"]
    assert papers["2007.03939"].authors == [
        "Partha Pratim Bhaduri",
        "Mubarak Alqahtani",
        "Nicolas Borghini",
        "Amaresh Jaiswal",
        "Michael Strickland",
    ]


# --- legacy RSS 1.0: hand-made items ---


def test_legacy_keeps_a_question_mark_and_drops_only_the_added_period():
    feed = rdf_of(
        rdf_item(title="Does It Work?. (arXiv:1805.99999v3 [stat.ML] UPDATED)"),
        rdf_item(
            about="http://arxiv.org/abs/hep-th/9901001",
            title="Old Style Id. (arXiv:hep-th/9901001v2 [hep-th])",
        ),
    )

    first, second = arxiv_rss_legacy.parse(feed)

    assert (first.title, first.version, first.announce_type) == ("Does It Work?", 3, "replace")
    assert (second.canonical_id, second.version, second.title) == (
        "hep-th/9901001",
        2,
        "Old Style Id",
    )


def test_legacy_reads_plain_text_creators_without_the_et_al_tail():
    feed = rdf_of(rdf_item(creator="Ann Lee, Bo Chen (MIT, Harvard), et al. (5 additional)"))

    assert arxiv_rss_legacy.parse(feed)[0].authors == ["Ann Lee", "Bo Chen (MIT, Harvard)"]


def test_legacy_feed_without_items_is_empty():
    assert arxiv_rss_legacy.parse(rdf_of()) == []


def test_legacy_truncated_feed_is_an_error():
    data = read(LEGACY_2018)

    with pytest.raises(FeedError, match="not well-formed XML"):
        arxiv_rss_legacy.parse(data[: len(data) // 2])


def test_legacy_rejects_a_current_rss_feed():
    with pytest.raises(FeedError, match=r"not an arXiv RSS 1\.0 \(RDF\) feed: got 'rss20'"):
        arxiv_rss_legacy.parse(read("arxiv-rss-2026-cs.LG.xml"))


def test_legacy_rejects_an_html_page_and_wants_bytes():
    with pytest.raises(FeedError, match=r"got an HTML page$"):
        arxiv_rss_legacy.parse(b"<!DOCTYPE html><html><title>Service Unavailable</title></html>")
    with pytest.raises(TypeError):
        arxiv_rss_legacy.parse(read(LEGACY_2018).decode())


# --- API: the classic layout (2016) ---


def test_api_classic_page_counts_are_the_opensearch_values():
    page = arxiv_api.parse_page(read(API_CLASSIC))

    # totalResults 2 with max_results=1: one entry on this page, more to fetch.
    assert (page.total_results, page.start_index, page.items_per_page) == (2, 0, 1)
    assert len(page.records) == 1


def test_api_classic_entry_fields():
    paper = arxiv_api.parse(read(API_CLASSIC))[0]

    assert (paper.canonical_id, paper.version) == ("1507.08204", 2)
    assert paper.title == "Light sterile neutrinos"
    assert paper.authors == ["S. Gariazzo", "C. Giunti", "M. Laveder", "Y. F. Li", "E. M. Zavanin"]
    assert paper.categories == ["hep-ph", "astro-ph.CO", "hep-ex", "physics.acc-ph"]
    assert paper.abs_url == "https://arxiv.org/abs/1507.08204"
    assert paper.pdf_url == "https://arxiv.org/pdf/1507.08204"
    assert paper.published == datetime(2015, 7, 29, 16, 26, 1, tzinfo=UTC)
    assert paper.doi == "10.1088/0954-3899/43/3/033001"
    assert paper.journal_ref == ""
    # arxiv:comment ("41 pages; …") has no field: `comments` is Hugging Face's count.
    assert paper.comments is None
    # A v2 found by a query is a paper, not a replacement announcement.
    assert paper.announce_type == ""
    assert not paper.is_replacement


def test_api_classic_summary_loses_its_indent_and_hard_wraps():
    abstract = arxiv_api.parse(read(API_CLASSIC))[0].abstract

    assert abstract.startswith("The theory and phenomenology of light sterile neutrinos at the eV")
    assert "at the eV mass scale is reviewed. The reactor" in abstract
    assert abstract.endswith("The review concludes with a summary of future perspectives.")
    assert "\n" not in abstract
    assert "  " not in abstract


# --- API: the current layout (2026) ---


def test_api_2026_page_and_every_entry():
    page = arxiv_api.parse_page(read(API_2026))

    assert (page.total_results, page.start_index, page.items_per_page) == (28946, 0, 5)
    assert [(r.canonical_id, r.version, r.announce_type) for r in page.records] == [
        ("2606.13677", 1, "new"),
        ("2606.13591", 1, "new"),
        ("2606.13568", 1, "new"),
        ("2606.13515", 1, "new"),
        ("2606.13501", 1, "new"),
    ]
    assert [r.categories for r in page.records] == [
        ["cs.RO", "cs.AI", "cs.CV", "cs.LG"],
        ["cs.AI", "cs.LG", "cs.MA"],
        ["cs.LG", "math-ph"],
        ["cs.CV", "cs.LG", "cs.RO"],
        ["cs.DC", "cs.LG", "cs.PF"],
    ]
    assert [r.title for r in page.records] == [
        "Mana: Dexterous Manipulation of Articulated Tools",
        "Multiagent Protocols with Aggregated Confidence Signals",
        "Adjusted Cup-Product Neural Layer",
        "MaskWAM: Unifying Mask Prompting and Prediction for World-Action Models",
        "GF-DiT: Scheduling Parallelism for Diffusion Transformer Serving",
    ]
    assert [r.published for r in page.records][::4] == [
        datetime(2026, 6, 11, 17, 59, 49, tzinfo=UTC),
        datetime(2026, 6, 11, 15, 51, 10, tzinfo=UTC),
    ]
    assert arxiv_api.parse(read(API_2026)) == page.records


def test_api_2026_authors_in_order():
    papers = by_id(arxiv_api.parse(read(API_2026)))

    assert papers["2606.13677"].authors == [
        "Zhao-Heng Yin",
        "Guanya Shi",
        "Pieter Abbeel",
        "C. Karen Liu",
    ]
    assert papers["2606.13568"].authors == ["Snigdha Chandan Khilar"]
    assert len(papers["2606.13501"].authors) == 9
    assert papers["2606.13501"].authors[-1] == "Minyi Guo"
    assert (papers["2606.13677"].doi, papers["2606.13677"].journal_ref) == ("", "")


def test_api_2026_paragraphs_are_folded_and_text_kept():
    papers = by_id(arxiv_api.parse(read(API_2026)))
    gf_dit = papers["2606.13501"].abstract

    # Paragraphs come separated by "\n  ": one space remains.
    assert "degraded service quality. This paper argues that DiT serving" in gf_dit
    assert "execution groups. We implement GF-DiT in vLLM-Omni" in gf_dit
    assert "improves throughput by up to 6.01$\\times$, reduces mean latency" in gf_dit
    assert gf_dit.endswith("from 778 ms to approximately 60 $μ$s.")
    assert "\n" not in gf_dit and "  " not in gf_dit
    # "&lt;1 minute" in the XML is text, not the start of a tag.
    assert "functional affordances (<1 minute per tool)." in papers["2606.13677"].abstract


# --- API: hand-made answers ---


def test_api_optional_elements_primary_first_and_no_duplicates():
    entry = """<entry>
    <id>http://arxiv.org/abs/2601.00001v3</id>
    <title>A Note on How to Remove the $\\ln\\ln T$ Term
      from the Squint Bound</title>
    <updated>2026-01-05T10:00:00Z</updated>
    <summary>First paragraph.
  Second paragraph.</summary>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="stat.ML" scheme="http://arxiv.org/schemas/atom"/>
    <category term="I.2.6" scheme="http://arxiv.org/schemas/atom"/>
    <published>2026-01-02T09:30:00Z</published>
    <arxiv:comment>12 pages</arxiv:comment>
    <arxiv:journal_ref>Proc. COLT 2026, pp. 1-12</arxiv:journal_ref>
    <arxiv:doi>10.1000/ABC.123 10.1000/def.456</arxiv:doi>
    <link rel="related" href="https://doi.org/10.1000/ABC.123" title="doi"/>
    <arxiv:primary_category term="stat.ML"/>
    <author><name>Ann Lee</name><arxiv:affiliation>MIT</arxiv:affiliation></author>
    <author><name>Bo Chen</name></author>
  </entry>"""

    page = arxiv_api.parse_page(api_feed(entry, total=1, per_page=1))
    paper = page.records[0]

    assert (paper.canonical_id, paper.version, paper.announce_type) == ("2601.00001", 3, "")
    assert paper.title == "A Note on How to Remove the $\\ln\\ln T$ Term from the Squint Bound"
    assert paper.abstract == "First paragraph. Second paragraph."
    # The primary first, then the rest once; ACM classes are not arXiv categories.
    assert paper.categories == ["stat.ML", "cs.LG"]
    assert paper.authors == ["Ann Lee", "Bo Chen"]
    assert paper.doi == "10.1000/abc.123"
    assert paper.journal_ref == "Proc. COLT 2026, pp. 1-12"
    assert paper.published == datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


def test_api_error_answer_raises_with_arxivs_message():
    with pytest.raises(FeedError) as raised:
        arxiv_api.parse_page(API_ERROR)
    assert str(raised.value) == "arXiv API error: incorrect id format for 1234.12345"

    with pytest.raises(FeedError, match=r"incorrect id format for 1234\.12345"):
        arxiv_api.parse(API_ERROR)


def test_api_empty_result_is_an_empty_page():
    page = arxiv_api.parse_page(api_feed(total=0, start=0, per_page=0))

    assert page == Page(records=[], total_results=0, start_index=0, items_per_page=0)
    assert arxiv_api.parse(api_feed(total=0, per_page=0)) == []


def test_api_truncated_answer_is_an_error():
    data = read(API_2026)

    with pytest.raises(FeedError, match="not well-formed XML"):
        arxiv_api.parse_page(data[: len(data) // 2])


def test_api_rejects_other_feeds():
    with pytest.raises(FeedError, match="not an arXiv API answer"):
        arxiv_api.parse(read(LEGACY_2018))
    # An Atom feed without opensearch counts cannot be paged: not an API answer.
    plain_atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A lab blog</title>
<id>https://lab.example.org/</id><updated>2026-01-01T00:00:00Z</updated>
<entry><id>http://arxiv.org/abs/2601.00001v1</id><title>A post</title>
<updated>2026-01-01T00:00:00Z</updated></entry></feed>"""
    with pytest.raises(FeedError, match="no opensearch:totalresults"):
        arxiv_api.parse(plain_atom)
    with pytest.raises(FeedError, match="empty response"):
        arxiv_api.parse(b"  ")


# --- API: helpers for backfill paging ---


def test_query_url_replaces_paging_and_keeps_other_params():
    url = arxiv_api.query_url(
        "http://export.arxiv.org/api/query?search_query=all:x&id_list=&start=5"
        "&max_results=3&sortBy=relevance",
        search_query="cat:cs.LG OR cat:cs.AI",
        start=100,
        max_results=50,
    )

    assert url == (
        "http://export.arxiv.org/api/query?id_list=&search_query=cat:cs.LG+OR+cat:cs.AI"
        "&start=100&max_results=50&sortBy=submittedDate&sortOrder=descending"
    )


def test_query_url_on_a_bare_base():
    assert arxiv_api.query_url(
        "https://export.arxiv.org/api/query", search_query="cat:hep-ex", start=0, max_results=10
    ) == (
        "https://export.arxiv.org/api/query?search_query=cat:hep-ex&start=0&max_results=10"
        "&sortBy=submittedDate&sortOrder=descending"
    )


@pytest.mark.parametrize(
    ("url", "categories"),
    [
        ("https://rss.arxiv.org/rss/cs.LG+cs.AI", ["cs.LG", "cs.AI"]),
        ("https://rss.arxiv.org/atom/cs.LG", ["cs.LG"]),
        (
            "http://rss.arxiv.org/rss/cs.LG+cs.AI+cs.CL+stat.ML",
            ["cs.LG", "cs.AI", "cs.CL", "stat.ML"],
        ),
        ("http://export.arxiv.org/rss/hep-ex", ["hep-ex"]),
        ("http://export.arxiv.org/rss/astro-ph.CO?version=2.0", ["astro-ph.CO"]),
        ("https://rss.arxiv.org/rss/cs.LG%2Bmath-ph/", ["cs.LG", "math-ph"]),
        ("https://example.org/rss/cs.LG", []),
        ("https://arxiv.org/abs/2401.00001", []),
        ("https://export.arxiv.org/api/query?search_query=cat:cs.LG", []),
        ("not a url", []),
    ],
)
def test_categories_of_rss_url(url: str, categories: list[str]):
    assert arxiv_api.categories_of_rss_url(url) == categories


def test_category_query():
    assert arxiv_api.category_query(["cs.LG", "cs.AI"]) == "cat:cs.LG OR cat:cs.AI"
    assert arxiv_api.category_query(["hep-ex"]) == "cat:hep-ex"
    assert arxiv_api.category_query(["cs.LG", " cs.LG ", ""]) == "cat:cs.LG"


def test_search_query_of():
    assert (
        arxiv_api.search_query_of(
            "http://export.arxiv.org/api/query?search_query=all:transformer+AND+cat:cs.LG&start=0"
        )
        == "all:transformer AND cat:cs.LG"
    )
    assert arxiv_api.search_query_of("http://export.arxiv.org/api/query?id_list=1507.08204") == ""
