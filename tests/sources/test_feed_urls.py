"""One spelling of a feed's address, so the admin catches a feed added twice, and the
name a source gets when staff give none."""

import pytest

from digest.sources.urls import default_source_name, feed_url_key

ARXIV_CS_LG = "https://rss.arxiv.org/rss/cs.LG"


@pytest.mark.parametrize(
    "variant",
    [
        "http://rss.arxiv.org/rss/cs.LG",  # the scheme
        "https://RSS.ArXiv.ORG/rss/cs.LG",  # the host's case
        "https://rss.arxiv.org/rss/cs.LG/",  # a trailing slash
        "https://rss.arxiv.org/rss/cs.LG?version=2.0",  # arXiv's flavour of the feed
        "https://rss.arxiv.org/rss/cs.LG?version=2",
        "https://rss.arxiv.org:443/rss/cs.LG",  # the default port
        "http://rss.arxiv.org:80/rss/cs.LG",
        "https://rss.arxiv.org./rss/cs.LG",  # the root's dot
        "https://rss.arxiv.org/rss/cs.LG#latest",  # a fragment, never sent
        "  HTTP://rss.arxiv.org/rss/cs.LG/?version=2  ",  # several at once
    ],
)
def test_spellings_of_one_arxiv_feed_have_one_key(variant):
    assert feed_url_key(variant) == feed_url_key(ARXIV_CS_LG) == "rss.arxiv.org/rss/cs.LG"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://www.example.org/feed.xml", "https://example.org/feed.xml"),
        ("http://WWW.Example.org/feed/", "https://example.org/feed"),
        ("https://example.org/feed?b=2&a=1", "https://example.org/feed?a=1&b=2"),
        (
            "http://export.arxiv.org/api/query?search_query=cat%3Acs.LG&max_results=100",
            "https://export.arxiv.org/api/query?max_results=100&search_query=cat:cs.LG",
        ),
    ],
)
def test_spellings_of_one_feed_elsewhere_have_one_key(one, other):
    assert feed_url_key(one) == feed_url_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://rss.arxiv.org/rss/cs.LG", "https://rss.arxiv.org/rss/cs.CL"),
        # Paths keep their case: cs.lg is another address.
        ("https://rss.arxiv.org/rss/cs.LG", "https://rss.arxiv.org/rss/cs.lg"),
        (
            "https://export.arxiv.org/api/query?search_query=cat:cs.LG",
            "https://export.arxiv.org/api/query?search_query=cat:cs.CL",
        ),
        # `version` is ignored on arXiv only: elsewhere it may name another feed.
        ("https://example.org/feed?version=1", "https://example.org/feed?version=2"),
        ("https://example.org:8443/feed", "https://example.org/feed"),
        ("https://blog.example.org/feed", "https://example.org/feed"),
    ],
)
def test_other_feeds_have_other_keys(one, other):
    assert feed_url_key(one) != feed_url_key(other)


@pytest.mark.parametrize(
    ("url", "kind", "name"),
    [
        ("https://rss.arxiv.org/rss/cs.LG", "arxiv_rss", "arXiv cs.LG"),
        ("https://rss.arxiv.org/atom/quant-ph?version=2", "arxiv_rss", "arXiv quant-ph"),
        (
            "https://export.arxiv.org/api/query?search_query=cat:cs.LG+AND+abs:diffusion",
            "arxiv_api",
            "arXiv API: cat:cs.LG AND abs:diffusion",
        ),
        (
            "https://export.arxiv.org/api/query?id_list=2604.21952",
            "arxiv_api",
            "arXiv API: 2604.21952",
        ),
        ("https://huggingface.co/api/daily_papers", "hf_daily", "Hugging Face daily papers"),
        ("https://www.example.org/journal/feed.xml", "feed", "example.org/journal/feed.xml"),
    ],
)
def test_a_source_given_no_name_is_named_after_what_it_reads(url, kind, name):
    assert default_source_name(url, kind) == name
