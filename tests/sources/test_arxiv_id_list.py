"""Asking arXiv's API for papers by id (seeds, digest/seeds.py): the id_list URL, one
request per 100 ids with arXiv's delay between them, and only the papers asked for."""

from urllib.parse import parse_qs, urlsplit

import pytest

from digest.sources import arxiv_api, backfill
from digest.sources.records import FeedError


def test_the_id_list_url_asks_for_each_id_once():
    url = arxiv_api.id_list_url(
        "https://export.arxiv.org/api/query", ["2403.12345", "hep-th/9901001", "2403.12345"]
    )

    assert url == (
        "https://export.arxiv.org/api/query?id_list=2403.12345,hep-th/9901001&max_results=2"
    )


def test_ids_are_asked_a_hundred_at_a_time_with_the_delay_between(fixture_bytes):
    asked, slept = [], []

    def fetch_bytes(url: str) -> bytes:
        asked.append(parse_qs(urlsplit(url).query)["id_list"][0].split(","))
        # Every answer holds the recorded paper, asked for or not.
        return fixture_bytes("arxiv-api-atom-id-list-one.xml")

    ids = [f"2403.{n:05d}" for n in range(150)] + ["2606.13677"]
    records = backfill.arxiv_papers_by_id(
        fetch_bytes, api_url="http://api", ids=ids, delay=3.0, sleep=slept.append
    )

    assert [len(batch) for batch in asked] == [100, 51]
    assert slept == [3.0]
    # Only in the second request was it asked for: the first answer's copy is dropped.
    assert [record.canonical_id for record in records] == ["2606.13677"]


def test_an_answer_with_no_entry_gives_no_paper(fixture_bytes):
    records = backfill.arxiv_papers_by_id(
        lambda url: fixture_bytes("arxiv-api-atom-id-list-none.xml"),
        api_url="http://api",
        ids=["2606.99999"],
        delay=3.0,
        sleep=lambda seconds: None,
    )

    assert records == []


def test_an_answer_that_is_no_api_answer_is_a_feed_error():
    with pytest.raises(FeedError):
        backfill.arxiv_papers_by_id(
            lambda url: b"<html>Service unavailable</html>",
            api_url="http://api",
            ids=["2606.99999"],
            delay=0,
            sleep=lambda seconds: None,
        )
