"""How fast due digests are matched, rendered and handed to the email backend.

Builds, in a throwaway test database of the configured kind (DATABASE_URL:
PostgreSQL in CI), a day of papers (default 2,000, the real sample resampled as in
bench/matching.py) and due subscribers (default 10,000) with 5 interests each
(bench/matching.py's long-tail pool), then runs what a worker runs: dispatch, then
`send_digests` on every chunk in turn, in this one process, through

- anymail's test backend (no network; the default), or
- Paperboy's SMTP backend (config/smtp.py; `--smtp-backend django`: Django's own) to
  `--smtp HOST:PORT`, or to `--smtp local`: bench/smtp_sink.py
  started in a process of its own, waiting `--reply-delay-ms` before each reply.

Counts as sent only the digests handed over (their rows say "sent"); those with
nothing to send ("empty") are counted apart and not in the rate. In the same run,
on up to --limit-sample of the digests sent, the limits of one process:

- render, per CPU second: `compose.build_digest_message` alone (templates, links,
  headers), the items known, caches as warm as the run left them;
- hand-over, per CPU second: a message already rendered (its strings), built and
  handed to anymail's test backend on one open connection; with --smtp also over one
  SMTP connection to the same server, one message after another (at most 5 s of it,
  per second of the clock).

The first chunk, which also reads the window's papers and indexes them (once per
worker process and dispatch), is timed apart too. Also the SQL queries of each
chunk, the process's CPU seconds, and its resident memory (RSS) as the digests go
out: after the first tenth and at the end. `--profile K` prints a profile (in CPU
time) of chunk K (`--profile K:L`: chunks K to L-1 together), `--profile render` of the
render limit.

The papers' analyses are stored first, and every subscriber's interests evaluated on
them and recorded, as the fetches that brought them do (digest/evaluations.py; the
CPU seconds printed, not counted); `--no-records`: analyses only, so the first
window evaluates the interests (and records them); `--no-stored-analyses`: neither,
so the first window makes the analyses too.

`--with-models F`: that fraction of the subscribers (0.2: one in five) have clicked
"more / less like this" on 10 + 10 of the papers and hold a trained reader model
(digest/personal.py), trained before the clock starts (its time per reader printed),
so their digests are ranked by it and carry its suggestions.

`--alternate-recorder` (PostgreSQL): the chunks after the first alternate between the
journal's commits on the recorder's thread (digest/handover.py) and on the sending
thread, and the rate of each half is printed: the recorder's effect measured at the
same time on the same machine, whose speed may change from one run to the next.

    python bench/send.py [--papers 2000] [--subscribers 10000] [--chunk 50]
                         [--smtp HOST:PORT | --smtp local [--reply-delay-ms 30]]
                         [--smtp-backend paperboy|django] [--with-models 0.2]
                         [--alternate-recorder]

Prints its figures; the last line is one JSON object.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import resource
import statistics
import subprocess
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
from django.core.mail import EmailMultiAlternatives, get_connection  # noqa: E402
from django.core.mail.message import SafeMIMEMultipart  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from matching import interest_pool, make_papers  # noqa: E402

from digest import analyses, compose, evaluations, personal, sending, tasks  # noqa: E402
from digest.models import Delivery, Feedback, Paper, ReaderModel  # noqa: E402
from subscriptions.models import Interest, Subscriber  # noqa: E402

TEST_BACKEND = "anymail.backends.test.EmailBackend"
SMTP_BACKENDS = {
    "paperboy": "config.smtp.EmailBackend",
    "django": "django.core.mail.backends.smtp.EmailBackend",
}
SMTP_HANDOVER_SECONDS = 5


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
        (
            Interest(subscriber=person, text=text)
            for person in people
            for text in dict.fromkeys(rng.choices(pool, weights=weights, k=interests))
        ),
        batch_size=5000,
    )


def give_models(fraction: float, likes: int = 10, dislikes: int = 10) -> dict:
    """`fraction` of the subscribers click on random papers and get their models trained
    (as the nightly task trains them: chunks, papers vectorized once a chunk)."""
    rng = random.Random(15)
    people = list(Subscriber.objects.values_list("pk", flat=True))
    chosen = rng.sample(people, round(len(people) * fraction))
    papers = list(Paper.objects.values_list("pk", flat=True))
    Feedback.objects.bulk_create(
        (
            Feedback(subscriber_id=person, paper_id=paper, value=1 if n < likes else -1)
            for person in chosen
            for n, paper in enumerate(rng.sample(papers, likes + dislikes))
        ),
        batch_size=5000,
    )
    personal.fit_representation()
    started = time.perf_counter()
    for chunk in sending.chunked(chosen, settings.LEARNING_CHUNK_SIZE):
        personal.train_readers(chunk)
    seconds = time.perf_counter() - started
    return {
        "readers": len(chosen),
        "models": ReaderModel.objects.count(),
        "train_ms_per_reader": seconds * 1000 / max(len(chosen), 1),
    }


def rss_mb() -> float:
    """This process's resident memory now (not its peak), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def start_sink(delay_ms: float) -> tuple[subprocess.Popen, str, int]:
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), "--reply-delay-ms", str(delay_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = sink.stdout.readline().strip()
    if not line.startswith("listening on "):
        sink.kill()
        raise SystemExit(f"bench/smtp_sink.py did not start: {line!r}")
    host, port = line.removeprefix("listening on ").rsplit(":", 1)
    return sink, host, int(port)


def stop_sink(sink: subprocess.Popen) -> dict:
    sink.terminate()
    out, _ = sink.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


class QueryCounter:
    """Counts the queries run (a cheap execute wrapper, unlike Django's debug cursor)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def sample_messages(limit: int) -> list[tuple]:
    """(subscriber, items, delivery, total, interests) of up to `limit` sent digests, as
    their rows hold them: what rendering them again needs, read before any timing."""
    deliveries = list(
        Delivery.objects.filter(status=Delivery.Status.SENT).select_related("subscriber")[:limit]
    )
    papers = compose.stored_papers(deliveries)
    interests: dict[int, list[str]] = {}
    for subscriber_id, text in Interest.objects.filter(
        subscriber_id__in=[d.subscriber_id for d in deliveries]
    ).values_list("subscriber_id", "text"):
        interests.setdefault(subscriber_id, []).append(text)
    found = []
    for delivery in deliveries:
        items = compose.items_from_json(delivery.items, papers)
        total = min(len(items), settings.DIGEST_MAX_PAPERS) + delivery.more_count
        found.append(
            (delivery.subscriber, items, delivery, total, interests.get(delivery.subscriber_id))
        )
    return found


def render_rate(samples: list[tuple]) -> tuple[float, list[EmailMultiAlternatives]]:
    """Digests rendered per CPU second (build_digest_message alone), and the messages."""
    started = time.process_time()
    messages = [
        compose.build_digest_message(subscriber, items, delivery, total=total, interests=interests)
        for subscriber, items, delivery, total, interests in samples
    ]
    return len(messages) / (time.process_time() - started), messages


def _copy(message: EmailMultiAlternatives) -> EmailMultiAlternatives:
    """A message from rendered strings: what a sender does once the templates ran (of
    the same class, so it is serialized as the sent ones are)."""
    copy = type(message)(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=message.to,
        headers=dict(message.extra_headers),
    )
    copy.attach_alternative(*message.alternatives[0])
    copy.tags, copy.metadata = getattr(message, "tags", []), getattr(message, "metadata", {})
    return copy


def wire_form(rendered: list[EmailMultiAlternatives]) -> dict:
    """What the messages are on the wire: mean bytes and lines, and the CPU
    milliseconds making a message's bytes takes: written directly (Email.as_bytes,
    config/smtp.py's), built then serialized by subscriptions/mime.py (Django's SMTP
    backend), and built then serialized by Python's email generator."""
    started = time.process_time()
    wire = [message.as_bytes(linesep="\r\n") for message in rendered]
    direct_ms = (time.process_time() - started) * 1000 / max(len(wire), 1)
    started = time.process_time()
    for message in rendered:
        message.message().as_bytes(linesep="\r\n")
    built_ms = (time.process_time() - started) * 1000 / max(len(wire), 1)
    started = time.process_time()
    for message in rendered:
        SafeMIMEMultipart.as_bytes(message.message(), linesep="\r\n")
    generator_ms = (time.process_time() - started) * 1000 / max(len(wire), 1)
    return {
        "bytes": statistics.mean(len(data) for data in wire) if wire else 0,
        "lines": statistics.mean(data.count(b"\n") for data in wire) if wire else 0,
        "direct_ms": direct_ms,
        "built_ms": built_ms,
        "generator_ms": generator_ms,
    }


def handover_rate(
    rendered: list[EmailMultiAlternatives], backend: str, seconds: float | None = None
) -> tuple[float, int]:
    """Rendered messages built and handed over per second on one open connection of
    `backend`, one after another; and how many were sent. Per CPU second, or with
    `seconds` (a network's waits count) per second of the clock, for at most that long."""
    clock = time.process_time if seconds is None else time.perf_counter
    line = get_connection(backend)
    line.open()
    sent = 0
    started = clock()
    try:
        for message in rendered:
            copy = _copy(message)
            copy.connection = line
            sent += copy.send()
            if seconds is not None and clock() - started > seconds:
                break
            if hasattr(mail, "outbox"):
                mail.outbox.clear()
    finally:
        elapsed = clock() - started
        line.close()
    return sent / elapsed, sent


def profile_text(profile: cProfile.Profile, lines: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def profiled_chunks(option: str | None) -> range:
    """The chunks --profile names: "K" or "K:L" (L not included); none for 'render'."""
    if not option or option == "render":
        return range(0)
    first, _, last = option.partition(":")
    return range(int(first), int(last) if last else int(first) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--interests", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=settings.DIGEST_CHUNK_SIZE)
    parser.add_argument("--smtp", metavar="HOST:PORT", help="or 'local': bench/smtp_sink.py")
    parser.add_argument(
        "--smtp-backend",
        choices=sorted(SMTP_BACKENDS),
        default="paperboy",
        help="of --smtp: config.smtp's (the default) or Django's own",
    )
    parser.add_argument("--reply-delay-ms", type=float, default=0, help="of --smtp local")
    parser.add_argument("--limit-sample", type=int, default=2000)
    parser.add_argument("--with-models", type=float, default=0.0, metavar="FRACTION")
    parser.add_argument(
        "--no-stored-analyses",
        action="store_true",
        help="the papers' analyses not stored beforehand: the first window makes them",
    )
    parser.add_argument(
        "--no-records",
        action="store_true",
        help="the interests not evaluated on the papers beforehand: the first window does",
    )
    parser.add_argument(
        "--alternate-recorder",
        action="store_true",
        help="on PostgreSQL, chunks after the first alternate between the journal's commits "
        "on the recorder's thread (odd chunks) and on the sending thread (even): the "
        "recorder's effect on one machine at one time, whatever its speed does",
    )
    parser.add_argument(
        "--profile",
        metavar="K",
        help="cProfile chunk K (from 0), chunks K:L (K up to L, not L, added up), or 'render': "
        "the render limit",
    )
    args = parser.parse_args()
    settings.DIGEST_FIRST_LOOKBACK_DAYS = 1

    sink = None
    if args.smtp:
        if args.smtp == "local":
            sink, host, port = start_sink(args.reply_delay_ms)
        else:
            host, port = args.smtp.rsplit(":", 1)
        settings.EMAIL_BACKEND = SMTP_BACKENDS[args.smtp_backend]
        settings.EMAIL_HOST, settings.EMAIL_PORT = host, int(port)
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    else:
        settings.EMAIL_BACKEND = TEST_BACKEND

    test_db = benchdb.create()
    queries = QueryCounter()
    queries_per_chunk: list[int] = []
    memory: list[tuple[int, float]] = []  # (digests handed over or closed, RSS MB)
    profile = None
    try:
        populate(args.papers, args.subscribers, args.interests)
        models = give_models(args.with_models) if args.with_models else None
        store_seconds = 0.0
        if not args.no_stored_analyses:  # what the fetches that brought the papers did
            store_started = time.process_time()
            analyses.store_recent()
            if not args.no_records:
                evaluations.record_recent()
            store_seconds = time.process_time() - store_started
        now = timezone.now()
        rss_before = rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        ids = sending.due_subscriber_ids(now)
        done = 0
        profiled = profiled_chunks(args.profile)
        arms: dict[bool, list[tuple[int, float, float]]] = {True: [], False: []}
        aside_setting = settings.DIGEST_RECORD_ASIDE
        with connection.execute_wrapper(queries):
            for number, chunk in enumerate(sending.chunked(ids, args.chunk)):
                before = queries.count
                aside = number % 2 == 1
                if args.alternate_recorder:
                    settings.DIGEST_RECORD_ASIDE = aside
                chunk_started = (time.perf_counter(), time.process_time())
                if number in profiled:
                    profile = profile or cProfile.Profile(time.process_time)
                    profile.enable()
                said = tasks.send_digests(chunk, now.isoformat())
                if number in profiled:
                    profile.disable()
                sent_now = int(re.search(r"sent (\d+)", said or "sent 0").group(1))
                if number:
                    arms[aside].append(
                        (
                            sent_now,
                            time.perf_counter() - chunk_started[0],
                            time.process_time() - chunk_started[1],
                        )
                    )
                if number == 0:  # it reads the window's papers and indexes them
                    first = (time.perf_counter() - started, time.process_time() - cpu_started)
                    first_sent = sent_now
                queries_per_chunk.append(queries.count - before)
                # anymail's test backend keeps every message in a list it searches per
                # send; a real provider keeps nothing here, so neither does the bench.
                if hasattr(mail, "outbox"):
                    mail.outbox.clear()
                done += len(chunk)
                memory.append((done, rss_mb()))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        settings.DIGEST_RECORD_ASIDE = aside_setting
        statuses = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
        sent = statuses.get(Delivery.Status.SENT, 0)
        empty = statuses.get(Delivery.Status.EMPTY, 0)
        other = {status: n for status, n in statuses.items() if status not in ("sent", "empty")}
        held = Delivery.objects.filter(status=Delivery.Status.SENT).values_list("items", flat=True)
        shown = sum(min(len(items), settings.DIGEST_MAX_PAPERS) for items in held)
        papers_per_digest = shown / max(sent, 1)

        samples = sample_messages(args.limit_sample)
        if args.profile == "render":
            profile = cProfile.Profile(time.process_time)
            profile.enable()
        render_per_s, rendered = render_rate(samples)
        if args.profile == "render":
            profile.disable()
        handover_per_s, _ = handover_rate(rendered, TEST_BACKEND)
        wire = wire_form(rendered)
        smtp_handover_per_s, smtp_handed = (
            handover_rate(rendered, settings.EMAIL_BACKEND, SMTP_HANDOVER_SECONDS)
            if args.smtp
            else (0, 0)
        )
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
        received = stop_sink(sink) if sink else None

    rate = sent / seconds
    rest_seconds, rest_cpu = seconds - first[0], cpu_seconds - first[1]
    rest_rate = (sent - first_sent) / rest_seconds if rest_seconds > 0 else 0
    rest_cpu_rate = (sent - first_sent) / rest_cpu if rest_cpu > 0 else 0
    warm = next((mb for n, mb in memory if n >= len(ids) / 10), memory[0][1])
    rss_end = memory[-1][1]
    backend = (
        f"SMTP ({settings.EMAIL_BACKEND}) to {args.smtp}"
        + (f" (bench/smtp_sink.py, {args.reply_delay_ms:g} ms before each reply)" if sink else "")
        if args.smtp
        else "anymail's test backend"
    )
    print(
        f"database: {connection.vendor}; {args.papers} papers; {len(ids)} due subscribers; "
        f"chunks of {args.chunk}; {backend}"
    )
    print(
        f"the papers' analyses stored beforehand"
        f"{'' if args.no_records else ' and the interests evaluated and recorded'}, as "
        f"their fetches do: {store_seconds:.2f} s of CPU, not counted"
        if not args.no_stored_analyses
        else "no analyses stored beforehand: the first window makes and stores them"
    )
    if models:
        print(
            f"{models['models']} of them hold a reader model (10 likes + 10 dislikes each), "
            f"trained in {models['train_ms_per_reader']:.1f} ms a reader (database included)"
        )
    print(
        f"{sent} digests sent ({papers_per_digest:.1f} papers each) in {seconds:.2f} s "
        f"({cpu_seconds:.2f} s of CPU): {rate:.0f} digests/s on one process, "
        f"{sent / cpu_seconds:.0f} per CPU second; {empty} with nothing to send (not counted)"
        + (f"; other: {other}" if other else "")
    )
    print(
        f"the first chunk (it reads and indexes the window's papers, once per worker and "
        f"dispatch) took {first[0]:.2f} s ({first[1]:.2f} s of CPU); after it "
        f"{rest_rate:.0f} digests/s, {rest_cpu_rate:.0f} per CPU second"
    )
    print(
        f"limits on {len(samples)} of them, per CPU second: render alone {render_per_s:.0f}/s; "
        f"a rendered message built and handed to the test backend {handover_per_s:.0f}/s"
        + (
            f"; over one SMTP connection, one after another, {smtp_handover_per_s:.0f}/s"
            if args.smtp
            else ""
        )
    )
    print(
        f"a message on the wire (MIME): {wire['bytes'] / 1024:.1f} KB, {wire['lines']:.0f} "
        f"lines on average; its bytes in {wire['direct_ms']:.2f} ms of CPU written directly "
        f"(Email.as_bytes: config/smtp.py), {wire['built_ms']:.2f} ms built and serialized "
        f"(subscriptions/mime.py: Django's SMTP backend), {wire['generator_ms']:.2f} ms "
        "through Python's email generator"
    )
    if received is not None:
        print(
            f"the SMTP server received {received['messages']} messages "
            f"({sent} digests + {smtp_handed} of the hand-over limit) on "
            f"{received['connections']} connections, at most {received['most_open']} at once, "
            f"and used {received['cpu_seconds']:.2f} s of CPU"
        )
    print(
        f"RSS: {rss_before:.0f} MB before sending, {warm:.0f} MB after the first tenth, "
        f"{rss_end:.0f} MB at the end ({rss_end - warm:+.1f} MB over the last nine tenths); "
        f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(
        f"SQL queries per chunk: min {min(queries_per_chunk)}, max {max(queries_per_chunk)}, "
        f"median {statistics.median(queries_per_chunk)}"
    )
    alternated = {}
    if args.alternate_recorder:
        for aside, runs in arms.items():
            sent_in, wall, cpu = (sum(run[k] for run in runs) for k in range(3))
            alternated[aside] = (round(sent_in / wall), round(sent_in / cpu))
        print(
            "chunks after the first, alternating, digests/s (per CPU second): commits on "
            f"the recorder's thread {alternated[True][0]} ({alternated[True][1]}), on the "
            f"sending thread {alternated[False][0]} ({alternated[False][1]})"
        )
    if profile is not None:
        print(profile_text(profile))
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "backend": f"smtp ({args.smtp_backend})" if args.smtp else "test",
                "reply_delay_ms": args.reply_delay_ms if sink else None,
                "papers": args.papers,
                "subscribers": len(ids),
                "chunk": args.chunk,
                "digests_sent": sent,
                "digests_empty": empty,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "digests_per_second": round(rate),
                "digests_per_cpu_second": round(sent / cpu_seconds),
                "analyses_stored_beforehand": not args.no_stored_analyses,
                "records_made_beforehand": not (args.no_stored_analyses or args.no_records),
                "store_analyses_cpu_seconds": round(store_seconds, 2),
                "first_chunk_seconds": round(first[0], 2),
                "after_first_chunk_per_second": round(rest_rate),
                "after_first_chunk_per_cpu_second": round(rest_cpu_rate),
                "render_per_second": round(render_per_s),
                "handover_per_second": round(handover_per_s),
                "message_kb": round(wire["bytes"] / 1024, 1),
                "message_lines": round(wire["lines"]),
                "bytes_direct_ms": round(wire["direct_ms"], 2),
                "bytes_built_ms": round(wire["built_ms"], 2),
                "bytes_generator_ms": round(wire["generator_ms"], 2),
                "smtp_handover_per_second": round(smtp_handover_per_s) if args.smtp else None,
                "smtp_messages_received": received["messages"] if received else None,
                "smtp_connections": received["connections"] if received else None,
                "smtp_server_cpu_seconds": received["cpu_seconds"] if received else None,
                "rss_mb_warm": round(warm, 1),
                "rss_mb_end": round(rss_end, 1),
                "queries_per_chunk_max": max(queries_per_chunk),
                "queries_per_chunk_min": min(queries_per_chunk),
                "with_models": args.with_models,
                "reader_models": models["models"] if models else 0,
                "train_ms_per_reader": round(models["train_ms_per_reader"], 2) if models else None,
                "alternated_recorder_per_second": alternated.get(True, (None,))[0],
                "alternated_inline_per_second": alternated.get(False, (None,))[0],
            }
        )
    )


if __name__ == "__main__":
    main()
