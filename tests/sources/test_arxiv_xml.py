"""The fast reader of arXiv's feeds (digest/sources/arxiv_xml.py) gives what feedparser
gives: the same records from every recorded arXiv feed, from generated feeds with
every oddity a field can carry, and from damaged ones; and it declines (feedparser
reads instead) whatever is not the shape arXiv writes."""

import gzip
import io
import json
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import feedparser
import feedparser.html
import feedparser.urls
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.sources import FeedError, arxiv_rss, arxiv_xml
from digest.sources.feedreader import read_feed
from tests.sources.test_properties import mutated

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAMPLE = Path(__file__).parents[2] / "digest" / "sample" / "arxiv-records.jsonl.gz"
ARXIV_FEEDS = sorted(
    path.name for path in FIXTURES.glob("arxiv-rss-*.xml") if "rss1-legacy" not in path.name
)
NAMESPACES = (
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def with_feedparser(data: bytes):
    """arxiv_rss.parse as it was: feedparser reads the whole feed."""
    return outcome(lambda: arxiv_rss.parse(data), fast=False)


def by_feedparser(data: bytes):
    # As digest/sources/feedreader.py calls it.
    return feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)


def same_entries(data: bytes) -> bool:
    """The reader's entries and feedparser's agree on every key arxiv_rss reads (when
    the reader takes the feed at all)."""
    items = arxiv_xml.read_items(data)
    if items is None:
        return True
    expected = by_feedparser(data).entries
    return [essentials(e) for e in items.entries] == [essentials(e) for e in expected]


def with_reader(data: bytes):
    return outcome(lambda: arxiv_rss.parse(data), fast=True)


def outcome(parse, *, fast: bool):
    original = arxiv_xml.read_items
    if not fast:
        arxiv_xml.read_items = lambda data: None
    try:
        return parse()
    except FeedError as error:
        return ("FeedError", str(error))
    finally:
        arxiv_xml.read_items = original


# The keys of an entry that arxiv_rss reads, as it reads them.
def essentials(entry) -> dict:
    return {
        "id": entry.get("id", ""),
        "link": entry.get("link", ""),
        "title": entry.get("title", ""),
        "summary": entry.get("summary", ""),
        "authors": [dict(author) for author in entry.get("authors", [])],
        "tags": [dict(tag) for tag in entry.get("tags", [])],
        "published": entry.get("published", ""),
        "published_parsed": entry.get("published_parsed"),
        "arxiv_announce_type": entry.get("arxiv_announce_type"),
        "arxiv_doi": entry.get("arxiv_doi", ""),
        "arxiv_journal_reference": entry.get("arxiv_journal_reference", ""),
    }


# --- the recorded feeds ---


@pytest.mark.parametrize("name", ARXIV_FEEDS)
def test_every_recorded_arxiv_feed_is_read_fast_and_exactly_as_feedparser_reads_it(name):
    data = (FIXTURES / name).read_bytes()

    items = arxiv_xml.read_items(data)

    assert items is not None
    expected = by_feedparser(data)
    assert [essentials(e) for e in items.entries] == [essentials(e) for e in expected.entries]
    assert with_reader(data) == with_feedparser(data)
    # The channel as feedparser reads it, with the items cut out.
    frame = by_feedparser(items.frame)
    assert (frame.version, frame.feed, frame.bozo) == (expected.version, expected.feed, False)
    assert frame.entries == []


def test_the_legacy_rdf_feeds_are_left_to_feedparser():
    for path in FIXTURES.glob("arxiv-rss1-legacy-*.xml"):
        assert arxiv_xml.read_items(path.read_bytes()) is None


def test_read_feed_gives_the_channel_of_feedparser_and_the_items_of_the_reader():
    data = (FIXTURES / "arxiv-rss-2026-cs.LG.xml").read_bytes()

    feed = read_feed(data, read_items=arxiv_xml.read_items)

    assert feed.version == "rss20"
    assert feed.feed.title == "cs.LG updates on arXiv.org"
    assert [entry["id"] for entry in feed.entries] == [
        "oai:arXiv.org:2604.21952v1",
        "oai:arXiv.org:2604.21953v1",
        "oai:arXiv.org:2604.21956v1",
    ]


@pytest.mark.parametrize("name", ARXIV_FEEDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_damaged_recorded_feed_gives_what_feedparser_gives(name, data):
    damaged = data.draw(mutated((FIXTURES / name).read_bytes()))

    assert with_reader(damaged) == with_feedparser(damaged)
    assert same_entries(damaged)


# --- generated feeds: what a field may hold, and how feedparser reads it ---

# Characters XML 1.0 allows, weighted to the ones that matter: markup, entities,
# whitespace of every kind, C1 controls (feedparser maps them to windows-1252),
# latin-1 letters (feedparser repairs "UTF-8 read as latin-1"), "@", "/", ":".
ODD = list("<>&;#@/:.()[]$\\ \t\n\r\u00a0\u0085\u2028\u3000\x80\x85\x8d\x93\x9fÃ©ÂéĀ€💡")
FRAGMENTS = [
    "&amp;", "&lt;", "&#233;", "&#x41;", "&eacute;", "Ã©", "Ã", "&copy", "<b>x</b>",
    "https://arxiv.org/abs/2604.00001", "https:///arxiv.org//abs/2604.00002", "oai:arXiv.org:",
    "a@b.org", "(MIT, Harvard)", "Announce Type: ", "\nAbstract: ", "arXiv:2604.00003v2 ",
    "Mon, 27 Apr 2026 00:00:00 -0400", "2026-09-25T00:00:00-04:00", "cs.LG",
]  # fmt: skip


def _xml_char(c: str) -> bool:
    code = ord(c)
    return (
        code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code > 0xFFFF
    )


text = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(ODD),
        st.text(st.characters(codec="utf-8").filter(_xml_char), max_size=8),
    ),
    max_size=6,
).map("".join)


@st.composite
def xml_text(draw) -> str:
    """`text` as XML character data: escaped, or a CDATA section, with a comment maybe."""
    value = draw(text)
    if "]]>" not in value and draw(st.booleans()):
        return f"<![CDATA[{value}]]>"
    escaped = escape(value).replace("\r", "&#13;")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(escaped)))
        while at and escaped[at - 1] != ";" and "&" in escaped[max(0, at - 8) : at]:
            at -= 1  # not inside an entity
        escaped = f"{escaped[:at]}<!-- note -->{escaped[at:]}"
    return escaped


RSS_DATES = [
    "Mon, 27 Apr 2026 00:00:00 -0400",
    "Mon, 27 Apr 2026 00:00:00 -0000",
    "2026-04-27",
    "garbage",
    "",
]
ATOM_DATES = ["2026-09-25T00:00:00-04:00", "2026-09-25", RSS_DATES[0], "nonsense"]


def identifier(n: int) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [f"2604.{n:05d}", f"2604.{n:05d}v2", f"hep-th/99{n:05d}", f"x{n}", "", "2604.1"]
    )


@st.composite
def rss_item(draw, n: int) -> str:
    arxiv_id = draw(identifier(n))
    fields = []
    if draw(st.booleans()):
        fields.append(f"<title>{draw(xml_text())}</title>")
    if draw(st.integers(0, 4)):
        link = draw(st.sampled_from(["https://arxiv.org/abs/", "https:///arxiv.org/abs/", ""]))
        junk = draw(xml_text()) if draw(st.integers(0, 5)) == 0 else ""
        fields.append(f"<link>{escape(link + arxiv_id)}{junk}</link>")
    if draw(st.integers(0, 4)):
        kind = draw(st.sampled_from(["new", "cross", "replace", "replace-cross", ""]))
        fields.append(
            f"<description>arXiv:{escape(arxiv_id)} Announce Type: {kind} \nAbstract: "
            f"{draw(xml_text())}</description>"
        )
    if draw(st.integers(0, 4)):
        permalink = draw(st.sampled_from(['isPermaLink="false"', 'isPermaLink="true"', ""]))
        prefix = draw(
            st.sampled_from(["oai:arXiv.org:", "https://arxiv.org/abs/", "http:////arxiv.org/abs/"])
        )
        fields.append(f"<guid {permalink}>{escape(prefix + arxiv_id)}</guid>")
    for _ in range(draw(st.integers(0, 3))):
        category = draw(st.sampled_from(["cs.LG", "cs.AI", " cs.LG ", ""]))
        fields.append(f"<category>{category}</category>")
    if draw(st.integers(0, 3)):
        date = draw(st.sampled_from(RSS_DATES))
        fields.append(f"<pubDate>{date}</pubDate>")
    if draw(st.booleans()):
        fields.append(f"<arxiv:announce_type>{draw(xml_text())}</arxiv:announce_type>")
    if draw(st.integers(0, 3)) == 0:
        fields.append(f"<arxiv:DOI>{draw(xml_text())}</arxiv:DOI>")
        fields.append(f"<arxiv:journal_reference>{draw(xml_text())}</arxiv:journal_reference>")
    if draw(st.booleans()):
        fields.append("<dc:rights>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</dc:rights>")
    for _ in range(draw(st.integers(0, 2))):
        fields.append(f"<dc:creator>{draw(xml_text())}</dc:creator>")
    order = draw(st.permutations(fields))
    spacing = draw(st.sampled_from(["", "\n  ", " "]))
    return f"<item>{spacing}{spacing.join(order)}{spacing}</item>"


@st.composite
def atom_entry(draw, n: int) -> str:
    arxiv_id = draw(identifier(n))
    fields = []
    if draw(st.integers(0, 4)):
        prefix = draw(st.sampled_from(["oai:arXiv.org:", "http:///x/"]))
        fields.append(f"<id>{escape(prefix + arxiv_id)}</id>")
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["", ' type="html"', ' type="text"']))
        fields.append(f"<title{kind}>{draw(xml_text())}</title>")
    for _ in range(draw(st.integers(0, 2))):
        rel = draw(st.sampled_from(["", "alternate", "related", "self", "ALTERNATE"]))
        rel = f' rel="{rel}"' if rel else ""
        kind = draw(st.sampled_from(["", "text/html", "application/pdf", "html"]))
        kind = f' type="{kind}"' if kind else ""
        href = draw(st.sampled_from(["https://arxiv.org/abs/", "https:///arxiv.org/abs/", "pdf/"]))
        fields.append(f"<link href={quoteattr(href + arxiv_id)}{rel}{kind}/>")
    if draw(st.integers(0, 4)):
        abstract = f"arXiv:{escape(arxiv_id)} Announce Type: new \nAbstract: {draw(xml_text())}"
        fields.append(f"<summary>{abstract}</summary>")
    for _ in range(draw(st.integers(0, 3))):
        term = draw(st.sampled_from(["cs.LG", "cs.AI", "", " q-bio.BM"]))
        fields.append(f"<category term={quoteattr(term)}/>")
    if draw(st.integers(0, 3)):
        date = draw(st.sampled_from(ATOM_DATES))
        fields.append(f"<published>{date}</published>")
    if draw(st.booleans()):
        fields.append("<updated>2026-09-25T04:00:11.600680+00:00</updated>")
    if draw(st.booleans()):
        fields.append(f"<arxiv:announce_type>{draw(xml_text())}</arxiv:announce_type>")
    for _ in range(draw(st.integers(0, 2))):
        fields.append(f"<dc:creator>{draw(xml_text())}</dc:creator>")
    order = draw(st.permutations(fields))
    return f"<entry>{''.join(order)}</entry>"


def rss_feed(items: list[str]) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss {NAMESPACES} version="2.0"><channel>'
        "<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
        f"<description>cs.LG updates</description>{''.join(items)}</channel></rss>"
    ).encode()


def atom_feed(entries: list[str]) -> bytes:
    return (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<feed {NAMESPACES} "
        'xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us"><id>http://rss.arxiv.org/atom/cs.LG</id>'
        f"<title>cs.LG updates on arXiv.org</title>{''.join(entries)}</feed>"
    ).encode()


@settings(max_examples=250, deadline=None)
@given(data=st.data())
def test_generated_rss_feeds_give_what_feedparser_gives(data):
    items = [data.draw(rss_item(n)) for n in range(data.draw(st.integers(1, 4)))]
    feed = rss_feed(items)

    assert with_reader(feed) == with_feedparser(feed)
    assert same_entries(feed)


@settings(max_examples=250, deadline=None)
@given(data=st.data())
def test_generated_atom_feeds_give_what_feedparser_gives(data):
    entries = [data.draw(atom_entry(n)) for n in range(data.draw(st.integers(1, 4)))]
    feed = atom_feed(entries)

    assert with_reader(feed) == with_feedparser(feed)
    assert same_entries(feed)


def test_most_generated_feeds_are_read_by_the_reader_not_declined():
    # The equivalence above means something only if the reader took those feeds.
    examples = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(data=st.data())
    def collect(data):
        items = [data.draw(rss_item(n)) for n in range(2)]
        examples.append(arxiv_xml.read_items(rss_feed(items)) is not None)

    collect()
    assert sum(examples) > 0.5 * len(examples)


def sample_feed(atom: bool = False) -> bytes:
    """The real papers of digest/sample as an arXiv feed (their abstracts' math and all)."""
    with gzip.open(SAMPLE, "rt") as lines:
        records = [json.loads(line) for line in lines]
    items = []
    for n, record in enumerate(records):
        arxiv_id = record["id"]
        authors = escape(", ".join(record["authors"]))
        categories = record["categories"]
        kind = ["new", "cross", "replace"][n % 3]
        version = n % 3 + 1
        title = escape(record["title"])
        description = escape(
            f"arXiv:{arxiv_id}v{version} Announce Type: {kind} \nAbstract: {record['abstract']}"
        )
        if atom:
            cats = "".join(f"<category term={quoteattr(c)}/>" for c in categories)
            items.append(
                f"<entry><id>oai:arXiv.org:{arxiv_id}v{version}</id><title>{title}</title>"
                f"<updated>2026-09-25T04:00:11.600680+00:00</updated>"
                f'<link href="https://arxiv.org/abs/{arxiv_id}" rel="alternate" type="text/html"/>'
                f"<summary>{description}</summary>{cats}<published>2026-09-25T00:00:00-04:00</published>"
                f"<arxiv:announce_type>{kind}</arxiv:announce_type><dc:creator>{authors}</dc:creator></entry>"
            )
        else:
            cats = "".join(f"<category>{escape(c)}</category>" for c in categories)
            items.append(
                f"<item><title>{title}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
                f'<description>{description}</description><guid isPermaLink="false">oai:arXiv.org:'
                f"{arxiv_id}v{version}</guid>{cats}<pubDate>{RSS_DATES[0]}</pubDate>"
                f"<arxiv:announce_type>{kind}</arxiv:announce_type><dc:creator>{authors}</dc:creator></item>"
            )
    return atom_feed(items) if atom else rss_feed(items)


@pytest.mark.parametrize("atom", [False, True], ids=["rss", "atom"])
def test_the_sample_papers_read_the_same_both_ways_and_fast(atom):
    feed = sample_feed(atom)
    assert arxiv_xml.read_items(feed) is not None

    assert with_reader(feed) == with_feedparser(feed)
    assert len(with_reader(feed)) > 400


# --- what the reader declines: feedparser reads those ---


@pytest.mark.parametrize(
    "change",
    [
        ("<item>", '<item xml:base="https://elsewhere.example/">'),
        ("<channel>", '<channel xml:base="https://elsewhere.example/">'),
        ("<dc:creator>", '<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">'),
        ("<title>A Title</title>", "<title>A <b>Title</b></title>"),
        ("<title>A Title</title>", "<title>A Title</title><title>Another</title>"),
        ("<dc:creator>Ada Lovelace</dc:creator>", "<dc:creator>Ada (ada@example.org)</dc:creator>"),
        (
            "<link>https://arxiv.org/abs/2604.99999</link>",
            "<link>https://arxiv.org/abs/2604.99999?a=1&amp;b=2</link>",
        ),
        ("<category>cs.LG</category>", '<category domain="arxiv">cs.LG</category>'),
        ("<item>", "<item><comments>https://example.org</comments>"),
        ("</item>", "</item><ttl>60</ttl>"),
        ('version="2.0"', 'version="0.91"'),
        ('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
    ],
    ids=lambda change: change[1][:40],
)
def test_anything_arxiv_does_not_write_is_left_to_feedparser(change):
    feed = rss_feed([ITEM]).replace(*(part.encode() for part in change), 1)
    assert feed != rss_feed([ITEM])

    assert arxiv_xml.read_items(feed) is None
    assert with_reader(feed) == with_feedparser(feed)


ITEM = (
    "<item><title>A Title</title><link>https://arxiv.org/abs/2604.99999</link>"
    "<description>arXiv:2604.99999v1 Announce Type: new \nAbstract: An abstract.</description>"
    '<guid isPermaLink="false">oai:arXiv.org:2604.99999v1</guid><category>cs.LG</category>'
    "<pubDate>Mon, 27 Apr 2026 00:00:00 -0400</pubDate>"
    "<arxiv:announce_type>new</arxiv:announce_type><dc:creator>Ada Lovelace</dc:creator></item>"
)


def test_a_doctype_stops_the_reader_before_any_entity_is_declared():
    levels = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = rss_feed([ITEM.replace("A Title", "&lol9;")]).replace(
        b"\n", f'\n<!DOCTYPE rss [<!ENTITY lol0 "lol">{levels}]>\n'.encode(), 1
    )
    external = rss_feed([ITEM.replace("A Title", "&x;")]).replace(
        b"\n", b'\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n', 1
    )

    started = time.perf_counter()
    assert arxiv_xml.read_items(bomb) is None
    assert arxiv_xml.read_items(external) is None
    assert time.perf_counter() - started < 0.5


# --- the pieces of feedparser the reader copies ---


def test_the_windows_1252_map_is_feedparsers():
    assert feedparser.html._cp1252 == arxiv_xml.CP1252


@settings(max_examples=500, deadline=None)
@given(value=st.text(st.sampled_from("hH:/.+-,a1 é"), max_size=12) | text)
def test_links_are_fixed_as_feedparser_fixes_them(value):
    assert arxiv_xml._fix_uri(value) == feedparser.urls._urljoin("", value)
