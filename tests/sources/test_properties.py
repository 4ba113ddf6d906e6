"""Whatever the network sends, a parser returns records or raises FeedError, nothing else;
and ingestion writes a whole feed or no row at all."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.sources import PARSERS, FeedError, PaperRecord, arxiv_rss, parse

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECORDED = {
    "arxiv_rss": [
        "arxiv-rss-2026-multicat-cross-replace.xml",
        "arxiv-rss-atom-variant-2026-cs.LG.xml",
    ],
    "arxiv_rss_legacy": ["arxiv-rss1-legacy-2018-hep-ex.xml"],
    "arxiv_api": ["arxiv-api-atom-2026.xml", "arxiv-api-atom-classic-2016.xml"],
    "hf_daily": ["hf-daily-papers-api.json"],
    "hf_page": ["hf-papers-page-2024-08-01.html"],
    "feed": ["generic-lab-blog-atom.xml", "generic-biorxiv-style-rss1.xml"],
}
FEEDS = [
    (kind, (FIXTURES / name).read_bytes()) for kind, names in RECORDED.items() for name in names
]


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """A real feed, damaged the ways downloads and servers damage them."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["truncate", "delete", "insert", "duplicate", "flip"]))
        if action == "truncate":
            data = data[:at]
        elif action == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 200)) :]
        elif action == "insert":
            noise = draw(st.sampled_from([b"<", b"&", b"]]>", b"\x00", b"\xff\xfe", b"</item>"]))
            data = data[:at] + noise + data[at:]
        elif action == "duplicate":
            data = data[:at] + data[at : at + 300] + data[at:]
        elif at < len(data):
            data = data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1 :]
    return data


def well_formed(records: list[PaperRecord]) -> bool:
    return all(isinstance(r, PaperRecord) and r.canonical_id and r.title for r in records)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise_anything_but_a_feed_error(kind, data):
    try:
        records = parse(kind, data)
    except FeedError:
        return
    assert well_formed(records)


@pytest.mark.parametrize(
    ("kind", "feed"), FEEDS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(FEEDS)]
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_damaged_real_feeds_never_raise_anything_but_a_feed_error(kind, feed, data):
    damaged = data.draw(mutated(feed))
    try:
        records = parse(kind, damaged)
    except FeedError as error:
        assert str(error)  # a reason a person can read
        return
    assert well_formed(records)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_ingesting_a_damaged_feed_writes_all_of_it_or_nothing(data):
    from digest import ingest
    from digest.models import Paper

    kind, feed = data.draw(st.sampled_from(FEEDS))
    damaged = data.draw(mutated(feed))
    before = set(Paper.objects.values_list("canonical_id", flat=True))
    try:
        records = parse(kind, damaged)
    except FeedError:
        with pytest.raises(FeedError):
            ingest.ingest_bytes(damaged, kind)
        assert set(Paper.objects.values_list("canonical_id", flat=True)) == before
        return
    ingest.ingest_bytes(damaged, kind)
    after = set(Paper.objects.values_list("canonical_id", flat=True))
    assert after == before | {record.canonical_id for record in records}


def test_an_entity_expansion_bomb_is_refused_at_once():
    levels = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY lol0 "lol">{levels}]>'
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<guid>oai:arXiv.org:2601.00001v1</guid></item></channel></rss>"
    ).encode()

    with pytest.raises(FeedError, match="not well-formed XML"):
        arxiv_rss.parse(bomb)


def test_an_external_entity_never_reads_a_local_file():
    feed = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>t</title><item><title>A &x; title</title>'
        b"<guid>oai:arXiv.org:2601.00001v1</guid></item></channel></rss>"
    )
    try:
        records = arxiv_rss.parse(feed)
    except FeedError:
        return
    assert all("root:" not in record.title for record in records)
