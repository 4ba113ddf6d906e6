"""How fast a large arXiv RSS feed is parsed and written, and with how many queries.

Builds an arXiv RSS feed of N entries (default 2,000) in the current format,
then measures parse + upsert into the configured database (DATABASE_URL:
PostgreSQL in CI) in a throwaway test database. Also ingests a feed ten times
smaller, to show the number of SQL queries does not grow with the entries.

    python bench/ingest.py [--entries 2000]

Prints its figures; the last line is one JSON object.
"""

import argparse
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


def build_feed(entries: int, seed: int = 7, first_number: int = 0) -> bytes:
    rng = random.Random(seed)
    items = []
    for n in range(first_number, first_number + entries):
        arxiv_id = f"2611.{n:05d}"
        title = " ".join(rng.choices(WORDS, k=10)).capitalize()
        abstract = " ".join(rng.choices(WORDS, k=180)).capitalize() + " &amp; $k&lt;n$."
        authors = ", ".join(f"Author{rng.randrange(10_000)} Name" for _ in range(rng.randint(1, 8)))
        kind = rng.choice(["new", "new", "new", "cross", "replace"])
        cats = "".join(f"<category>{c}</category>" for c in rng.sample(CATEGORIES, 3))
        items.append(
            f"<item><title>{title}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
            f"<description>arXiv:{arxiv_id}v1 Announce Type: {kind} \nAbstract: {abstract}"
            f'</description><guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v1</guid>{cats}'
            f"<pubDate>Mon, 23 Nov 2026 00:00:00 -0500</pubDate>"
            f"<arxiv:announce_type>{kind}</arxiv:announce_type>"
            f"<dc:creator>{authors}</dc:creator></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        "<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
        "<description>bench</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def measure(feed: bytes, source: Source) -> dict[str, float]:
    started = time.perf_counter()
    records = sources.parse("arxiv_rss", feed)
    parsed = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        summary = ingest.upsert(records, source)
    written = time.perf_counter()
    return {
        "entries": len(records),
        "new": summary.new,
        "parse_s": parsed - started,
        "upsert_s": written - parsed,
        "total_s": written - started,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()

    test_db = benchdb.create()
    try:
        source = Source.objects.create(name="bench", url="https://rss.arxiv.org/rss/cs.LG")
        small = measure(build_feed(args.entries // 10, first_number=50_000), source)
        fresh = measure(build_feed(args.entries), source)
        again = measure(build_feed(args.entries), source)  # every entry known: the update path
        assert Paper.objects.count() == args.entries + args.entries // 10
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    rate = fresh["entries"] / fresh["total_s"]
    print(f"database: {connection.vendor}")
    print(
        f"{fresh['entries']} new entries: parse {fresh['parse_s']:.3f} s + upsert "
        f"{fresh['upsert_s']:.3f} s = {fresh['total_s']:.3f} s -> {rate:.0f} entries/s, "
        f"{fresh['queries']} SQL queries"
    )
    print(
        f"{again['entries']} known entries again: {again['total_s']:.3f} s -> "
        f"{again['entries'] / again['total_s']:.0f} entries/s, {again['queries']} SQL queries"
    )
    print(f"{small['entries']} new entries: {small['queries']} SQL queries (same count: batched)")
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "entries": fresh["entries"],
                "entries_per_second": round(rate),
                "parse_seconds": round(fresh["parse_s"], 3),
                "upsert_seconds": round(fresh["upsert_s"], 3),
                "queries": fresh["queries"],
                "queries_for_tenth_as_many": small["queries"],
                "reingest_entries_per_second": round(again["entries"] / again["total_s"]),
            }
        )
    )


if __name__ == "__main__":
    main()
