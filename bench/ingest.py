"""How fast a large arXiv RSS feed is parsed and written, and with how many queries.

Builds an arXiv RSS feed of N entries (default 2,000) in the current format,
then measures, on the same bytes:

- feedparser alone (what any feedparser-based reader pays at least),
- parse only (`sources.parse("arxiv_rss", …)`: records out),
- parse + upsert into the configured database (DATABASE_URL: PostgreSQL in
  CI), in a throwaway bench database, for new papers;

and the update paths, which really write every row: the same papers again at
version 2 (new titles and abstracts: arXiv's replacements), and a Hugging Face
daily papers answer for them (new upvotes and comments, its page). A feed ten
times smaller shows the number of SQL queries does not grow with the entries.
Parse-only figures are the best of three runs (the machine may be shared); the
JSON also has this process's CPU time for the new entries and the load average.

    python bench/ingest.py [--entries 2000]

Prints its figures; the last line is one JSON object.
"""

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django

django.setup()

import benchdb  # noqa: E402
import feedparser  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from digest import ingest, sources  # noqa: E402
from digest.models import Paper, Source  # noqa: E402

VOCABULARY = (
    "we propose a novel method for learning robust representations of graphs language "
    "diffusion models reinforcement agents transformer attention sparse mixture experts "
    "quantum circuits protein structure prediction benchmark results show improvements over "
    "baselines across datasets with fewer parameters and lower energy consumption on devices"
)
WORDS = VOCABULARY.split()
CATEGORIES = ["cs.LG", "cs.AI", "cs.CL", "cs.CV", "stat.ML", "quant-ph", "q-bio.BM"]
REPEATS = 3


def build_feed(entries: int, seed: int = 7, first_number: int = 0, version: int = 1) -> bytes:
    """An arXiv RSS feed; `version` > 1 announces every paper again as a replacement."""
    rng = random.Random(seed)
    items = []
    for n in range(first_number, first_number + entries):
        arxiv_id = f"2611.{n:05d}"
        title = " ".join(rng.choices(WORDS, k=10)).capitalize()
        abstract = " ".join(rng.choices(WORDS, k=180)).capitalize() + " &amp; $k&lt;n$."
        authors = ", ".join(f"Author{rng.randrange(10_000)} Name" for _ in range(rng.randint(1, 8)))
        kind = rng.choice(["new", "new", "new", "cross", "replace"]) if version == 1 else "replace"
        cats = "".join(f"<category>{c}</category>" for c in rng.sample(CATEGORIES, 3))
        items.append(
            f"<item><title>{title}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
            f"<description>arXiv:{arxiv_id}v{version} Announce Type: {kind} \nAbstract: "
            f'{abstract}</description><guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}'
            f"</guid>{cats}<pubDate>Mon, 23 Nov 2026 00:00:00 -0500</pubDate>"
            f"<arxiv:announce_type>{kind}</arxiv:announce_type>"
            f"<dc:creator>{authors}</dc:creator></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        "<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
        "<description>bench</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def build_daily_papers(entries: int, seed: int = 11) -> bytes:
    """Hugging Face daily papers for the feed's papers: upvotes and comments for each."""
    rng = random.Random(seed)
    items = [
        {
            "paper": {
                "id": f"2611.{n:05d}",
                "title": f"Paper {n}",
                "summary": "An abstract.",
                "authors": [{"name": "Ann Lee"}],
                "publishedAt": "2026-11-23T00:00:00.000Z",
                "upvotes": rng.randrange(1, 500),
            },
            "numComments": rng.randrange(1, 50),
        }
        for n in range(entries)
    ]
    return json.dumps(items).encode()


def best_of(function, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def feedparser_alone(feed: bytes) -> None:
    # As digest/sources/feedreader.py calls it.
    parsed = feedparser.parse(io.BytesIO(feed), sanitize_html=False, resolve_relative_uris=False)
    assert parsed.entries


def measure(feed: bytes, source: Source, kind: str = "arxiv_rss") -> dict[str, float]:
    cpu_started = time.process_time()
    started = time.perf_counter()
    records = sources.parse(kind, feed)
    parsed = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        summary = ingest.upsert(records, source)
    written = time.perf_counter()
    return {
        # This process's CPU time (not the database server's): what a busy machine,
        # where the wall clock also measures the other programs, changes least.
        "cpu_s": time.process_time() - cpu_started,
        "entries": len(records),
        "new": summary.new,
        "updated": summary.updated,
        "parse_s": parsed - started,
        "upsert_s": written - parsed,
        "total_s": written - started,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    n = args.entries
    load_before = os.getloadavg()[0]

    feed = build_feed(n)
    feedparser_s = best_of(lambda: feedparser_alone(feed))
    parse_s = best_of(lambda: sources.parse("arxiv_rss", feed))

    test_db = benchdb.create()
    try:
        arxiv = Source.objects.create(name="bench", url="https://rss.arxiv.org/rss/cs.LG")
        hugging_face = Source.objects.create(
            name="bench hf", url="https://huggingface.co/api/daily_papers", kind="hf_daily"
        )
        small = measure(build_feed(n // 10, first_number=50_000), arxiv)
        fresh = measure(feed, arxiv)
        # Every paper known: replaced by version 2 (new title and abstract), then counted
        # on Hugging Face. Both write every row.
        again = measure(build_feed(n, seed=8, version=2), arxiv)
        upvotes = measure(build_daily_papers(n), hugging_face, kind="hf_daily")
        assert Paper.objects.count() == n + n // 10
        assert (fresh["new"], again["updated"], upvotes["updated"]) == (n, n, n)
        assert Paper.objects.filter(version=2, upvotes__isnull=False).count() == n
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    def rate(seconds: float) -> int:
        return round(n / seconds)

    print(f"database: {connection.vendor}")
    print(f"feedparser alone: {feedparser_s:.3f} s -> {rate(feedparser_s)} entries/s")
    print(
        f"parse only: {parse_s:.3f} s -> {rate(parse_s)} entries/s "
        f"({parse_s / feedparser_s:.2f}x feedparser alone)"
    )
    print(
        f"{fresh['entries']} new entries: parse {fresh['parse_s']:.3f} s + upsert "
        f"{fresh['upsert_s']:.3f} s = {fresh['total_s']:.3f} s -> {rate(fresh['total_s'])} "
        f"entries/s ({fresh['total_s'] / feedparser_s:.2f}x feedparser alone), "
        f"{fresh['queries']} SQL queries, this process's CPU {fresh['cpu_s']:.3f} s"
    )
    print(
        f"{again['entries']} known entries at version 2: parse {again['parse_s']:.3f} s + upsert "
        f"{again['upsert_s']:.3f} s -> {rate(again['total_s'])} entries/s, "
        f"{again['updated']} updated, {again['queries']} SQL queries"
    )
    print(
        f"{upvotes['entries']} Hugging Face upvotes: parse {upvotes['parse_s']:.3f} s + upsert "
        f"{upvotes['upsert_s']:.3f} s -> {rate(upvotes['total_s'])} entries/s, "
        f"{upvotes['updated']} updated, {upvotes['queries']} SQL queries"
    )
    print(f"{small['entries']} new entries: {small['queries']} SQL queries (same count: batched)")
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "entries": fresh["entries"],
                "feedparser_entries_per_second": rate(feedparser_s),
                "parse_only_entries_per_second": rate(parse_s),
                "entries_per_second": rate(fresh["total_s"]),
                "times_feedparser_alone": round(fresh["total_s"] / feedparser_s, 2),
                "parse_seconds": round(fresh["parse_s"], 3),
                "upsert_seconds": round(fresh["upsert_s"], 3),
                "cpu_seconds": round(fresh["cpu_s"], 3),
                "queries": fresh["queries"],
                "queries_for_tenth_as_many": small["queries"],
                "reingest_entries_per_second": rate(again["total_s"]),
                "reingest_upsert_seconds": round(again["upsert_s"], 3),
                "reingest_queries": again["queries"],
                "upvotes_entries_per_second": rate(upvotes["total_s"]),
                "upvotes_upsert_seconds": round(upvotes["upsert_s"], 3),
                "upvotes_queries": upvotes["queries"],
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
