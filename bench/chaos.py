"""Exactly once under faults, at scale: the scenarios of tests/reliability/test_faults.py
at 2,000 due subscribers, with three workers of two pool processes each (as the
Procfile runs them) and one beat, on PostgreSQL and Redis when DATABASE_URL and
REDIS_URL say so, through Django's SMTP backend to a local SMTP server (aiosmtpd)
that misbehaves as each scenario says, 20 kills where a scenario kills.

    python bench/chaos.py [--subscribers 2000] [--kills 20] [--only NAME]

Prints per scenario: expected, exactly once, duplicate Message-IDs (a second, different
Message-ID for one subscriber and period), same-Message-ID resends (a copy a receiver
can collapse), lost, wrongly suppressed; the last line is one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

import benchdb  # noqa: E402
from django.db import connection  # noqa: E402

from digest.models import Delivery, Lease, Paper  # noqa: E402
from subscriptions.models import Subscriber  # noqa: E402
from tests.chaos import Scenario, SMTPFaults, populate, run  # noqa: E402
from tests.workers import worker_factory  # noqa: E402


def scenarios(kills: int) -> list[Scenario]:
    return [
        Scenario("no fault"),
        Scenario(f"SIGKILL of a worker's main process x{kills}", kill_main=kills),
        Scenario(f"SIGKILL of a pool process x{kills}", kill_child=kills),
        Scenario("451/421 at RCPT TO for 20% (greylisting)", smtp=SMTPFaults(greylist=0.2)),
        Scenario(
            "451/421 after DATA for 20%, reset before its reply for 5%",
            smtp=SMTPFaults(after_data=0.2, reset=0.05),
        ),
        Scenario("5% taken, the 250 after the client's timeout", smtp=SMTPFaults(late_reply=0.05)),
        Scenario("Redis (broker + cache) killed -9 and restarted x2", redis_restarts=2),
        Scenario("every chunk enqueued twice, two dispatchers at once", duplicate_chunks=True),
        Scenario("pg_terminate_backend on the workers' connections x10", pg_terminations=10),
    ]


COLUMNS = [
    ("expected", "expected"),
    ("exactly once", "exactly_once"),
    ("duplicate IDs", "duplicate_message_ids"),
    ("same-ID resends", "same_id_resends"),
    ("lost", "lost"),
    ("wrongly supp.", "wrongly_suppressed"),
    ("faults", "faults_injected"),
    ("seconds", "seconds"),
]


def clear() -> None:
    Delivery.objects.all().delete()
    Subscriber.objects.all().delete()
    Paper.objects.all().delete()
    Lease.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    args = parser.parse_args()

    chosen = [s for s in scenarios(args.kills) if not args.only or args.only in s.name]
    if connection.vendor != "postgresql":
        chosen = [s for s in chosen if not s.pg_terminations]
    results = []
    test_db = benchdb.create()
    try:
        with tempfile.TemporaryDirectory(prefix="paperboy-chaos-") as folder:
            for n, scenario in enumerate(chosen):
                clear()
                people = populate(args.subscribers)
                (Path(folder) / str(n)).mkdir()
                factory = worker_factory(Path(folder) / str(n), show_logs=False)
                start, _ = next(factory)
                try:
                    result = run(
                        scenario,
                        people,
                        start,
                        Path(folder) / str(n),
                        workers=args.workers,
                        concurrency=args.concurrency,
                        timeout=900,
                    )
                finally:
                    factory.close()
                results.append(result.row())
                print(scenario.name, result.row(), flush=True, file=sys.stderr)
    finally:
        if connection.vendor == "postgresql":  # a killed worker's session may linger
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        connection.creation.destroy_test_db(test_db, verbosity=0)

    print(
        f"database: {connection.vendor}; {args.subscribers} subscribers; "
        f"{args.workers} workers x {args.concurrency}"
    )
    width = max(len(row["scenario"]) for row in results)
    print(f"{'scenario':<{width}}  " + "  ".join(f"{title:>15}" for title, _ in COLUMNS))
    for row in results:
        cells = "  ".join(f"{row[key]:>15}" for _, key in COLUMNS)
        print(f"{row['scenario']:<{width}}  {cells}")
    print(json.dumps({"database": connection.vendor, "subscribers": args.subscribers,
                      "scenarios": results}))  # fmt: skip


if __name__ == "__main__":
    main()
