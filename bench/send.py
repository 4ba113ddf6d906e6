"""How fast due digests are matched, rendered and handed to the email backend.

Builds, in a throwaway test database of the configured kind (DATABASE_URL:
PostgreSQL in CI), a day of papers (default 2,000, the generator of
bench/matching.py) and due subscribers (default 10,000) with 5 interests each,
then runs what a worker runs: dispatch, then `send_digests` on every chunk in
turn in this one process, through anymail's test backend (no network). Prints
digests per second and the SQL queries of each chunk.

    python bench/send.py [--papers 2000] [--subscribers 10000] [--chunk 50]

Prints its figures; the last line is one JSON object.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

import benchdb  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from matching import interest_pool, make_papers  # noqa: E402

from digest import sending, tasks  # noqa: E402
from digest.models import Delivery, Paper  # noqa: E402
from subscriptions.models import Interest, Subscriber  # noqa: E402


def populate(papers: int, subscribers: int, interests: int) -> None:
    rng = random.Random(2026)
    now = timezone.now()
    Paper.objects.bulk_create(
        Paper(
            canonical_id=doc.id,
            title=doc.title,
            abstract=doc.abstract,
            authors=list(doc.authors),
            categories=list(doc.categories),
            abs_url=f"https://arxiv.org/abs/{doc.id}",
            pdf_url=f"https://arxiv.org/pdf/{doc.id}",
            upvotes=doc.upvotes,
            first_seen=now - timedelta(hours=rng.uniform(1, 20)),
        )
        for doc in make_papers(papers, rng)
    )
    pool = interest_pool(rng)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(pool))]
    people = Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{n}@example.com",
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
            next_digest_at=now - timedelta(minutes=1),
        )
        for n in range(subscribers)
    )
    Interest.objects.bulk_create(
        Interest(subscriber=person, text=text)
        for person in people
        for text in dict.fromkeys(rng.choices(pool, weights=weights, k=interests))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--interests", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=settings.DIGEST_CHUNK_SIZE)
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.DIGEST_FIRST_LOOKBACK_DAYS = 1

    test_db = benchdb.create()
    try:
        populate(args.papers, args.subscribers, args.interests)
        now = timezone.now()
        queries_per_chunk: list[int] = []
        started = time.perf_counter()
        ids = sending.due_subscriber_ids(now)
        for chunk in sending.chunked(ids, args.chunk):
            reset_queries()  # Django keeps the last 9,000 queries; a chunk's must fit
            with CaptureQueriesContext(connection) as queries:
                tasks.send_digests(chunk, now.isoformat())
            queries_per_chunk.append(len(queries))
            # anymail's test backend keeps every message in a list it searches per send;
            # a real provider keeps nothing here, so neither does the bench.
            mail.outbox.clear()
        seconds = time.perf_counter() - started
        sent = Delivery.objects.filter(status=Delivery.Status.SENT).count()
        empty = Delivery.objects.filter(status=Delivery.Status.EMPTY).count()
        held = Delivery.objects.filter(status=Delivery.Status.SENT).values_list(
            "items", "more_count"
        )
        shown = sum(min(len(items), settings.DIGEST_MAX_PAPERS) for items, _ in held)
        papers_per_digest = shown / max(sent, 1)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    rate = (sent + empty) / seconds
    print(f"database: {connection.vendor}; {args.papers} papers; {len(ids)} due subscribers")
    print(
        f"{sent} digests sent ({papers_per_digest:.1f} papers each), {empty} with nothing to "
        f"send, in {seconds:.2f} s: {rate:.0f} digests/s on one process"
    )
    print(
        f"SQL queries per chunk of {args.chunk}: min {min(queries_per_chunk)}, "
        f"max {max(queries_per_chunk)}, median {statistics.median(queries_per_chunk)}"
    )
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "papers": args.papers,
                "subscribers": len(ids),
                "digests_sent": sent,
                "seconds": round(seconds, 2),
                "digests_per_second": round(rate),
                "chunk": args.chunk,
                "queries_per_chunk_max": max(queries_per_chunk),
                "queries_per_chunk_min": min(queries_per_chunk),
            }
        )
    )


if __name__ == "__main__":
    main()
