"""The matching job of bench/matching.py through Paperboy's engine and its peers, side by side.

The job: index the papers, find every distinct interest's papers, then each
subscriber's best 25 of the union of their interests' papers. The same papers
and subscribers as bench/matching.py (same seed), run by:

- the engine: `PaperIndex`, every distinct interest, `match(interests, 25)`;
- "stored": the same, each paper's analysis read back from the bytes a fetch
  stores (digest/analyses.py; made before the runs, in memory), as a sender's
  window reads them;
- "evaluated": the same, each paper's clauses taken from the record the fetch
  that brought it made (digest/evaluations.py: every reader's interests
  evaluated on it once; made before the runs, as bytes the job decodes), as a
  sender's window takes them; its making is printed apart;
- tantivy (a Rust search engine, Python binding; its best setup here: one
  segment written by one thread, English stemming, positions): one query per
  distinct interest, each phrase a phrase query on title or abstract,
  exclusions as MUST_NOT, AND as MUST, `cat:` a term on the categories (and
  their archives), `author:` a phrase on the authors; every hit read with its
  BM25 score;
- PostgreSQL full-text search, when DATABASE_URL is PostgreSQL (temporary
  tables, so nothing stays): a stored tsvector (title weight A, abstract B,
  English) with a GIN index, authors a 'simple' tsvector, categories a text
  array, both GIN too; one statement per distinct interest built from
  phraseto_tsquery, prepared, all sent in one pipeline (no round trip each),
  with ts_rank as the score;
- the limit: each interest's result set (the engine's, as a dict paper ->
  points) read once, then the per-subscriber union and top 25 alone.

Tantivy and PostgreSQL get the same per-subscriber step as the limit (one
result set: its first 25; else scores summed in a dict and the 25 best taken
with heapq), so they differ from it only in indexing and the interests.

They do NOT have the engine's semantics: no acronyms with their long forms,
no thesaurus or concept graph, no derivational forms, no aboutness (a
mention "as an example" counts for them), plain BM25 / ts_rank instead of
prominence, concepts counted once and rarity; PostgreSQL's English stemmer
and tantivy's differ from the engine's too. How their results differ from
the engine's is printed: per distinct interest (same set of papers or not,
papers only one side finds) and per subscriber (same total, overlap of the
top 25) on a sample.

"At a window's time" leaves out what each one does once per paper when it
comes: the peers' index phase, the engine's analysis ("stored") or its
clauses' evaluation too ("evaluated"). A peer that likewise ran every query on
each new paper and kept the results would be the limit at a window's time.

Times are CPU seconds (this process with its threads; for PostgreSQL plus its
server process, read from /proc), medians of --runs interleaved runs; wall
seconds are printed too.

    python bench/peers.py [--papers 2000] [--subscribers 100000] [--runs 3]
                          [--no-postgres] [--compare 2000]

The last line is one JSON object.
"""

import argparse
import heapq
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import random

import matching as bench  # bench/matching.py

from digest.matching import Document, category_keys, stored

LIMIT = 25
# paper -> score: one interest's result set, as every peer gives it
ResultSet = dict[int, float]


# --- The interest language, as the peers can read it ---------------------------


def clauses(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Required and excluded clauses of an interest: (kind, value), kind one of
    phrase, cat, author. The engine's grammar in short: AND between required
    parts, " -" before each excluded phrase, quotes kept out."""
    required, excluded = [], []
    for side in re.split(r"\s+AND\s+", text.strip()):
        first, *rest = re.split(r"\s+-(?=\S)", side)
        required.append(_clause(first))
        excluded += [_clause(piece) for piece in rest]
    return required, excluded


def _clause(piece: str) -> tuple[str, str]:
    piece = piece.strip()
    for kind in ("cat", "author"):
        if piece.lower().startswith(kind + ":"):
            return kind, piece[len(kind) + 1 :].strip().strip('"')
    return "phrase", piece.strip('"')


# --- The per-subscriber step, the same for the limit and the peers -------------


def combine(
    results: dict[str, ResultSet], subscribers: list[list[str]], keep: list | None = None
) -> int:
    """Each subscriber's union of result sets and its LIMIT best papers; how many had any."""
    digests = 0
    ranked: dict[str, list[tuple[int, float]]] = {}  # a set's papers best first, for one alone
    for number, interests in enumerate(subscribers):
        found = [results[t] for t in dict.fromkeys(interests) if results.get(t)]
        if not found:
            if keep is not None:
                keep.append((number, (), 0))
            continue
        digests += 1
        if len(found) == 1:
            text = next(t for t in interests if results.get(t))
            best = ranked.get(text)
            if best is None:
                best = ranked[text] = heapq.nlargest(LIMIT, found[0].items(), key=itemgetter(1))
            total = len(found[0])
        else:
            scores = dict(found[0])
            get = scores.get
            for result in found[1:]:
                for paper, score in result.items():
                    scores[paper] = get(paper, 0) + score
            best = heapq.nlargest(LIMIT, scores.items(), key=itemgetter(1))
            total = len(scores)
        if keep is not None:
            keep.append((number, tuple(paper for paper, _ in best), total))
    return digests


# --- The peers ------------------------------------------------------------------


def tantivy_job(
    papers: list[Document], texts: list[str]
) -> tuple[dict[str, ResultSet], dict[str, float]]:
    import tantivy

    clock = time.process_time()
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("paper", fast=True)
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("abstract", tokenizer_name="en_stem")
    builder.add_text_field("authors")
    builder.add_text_field("categories", tokenizer_name="raw")
    schema = builder.build()
    index = tantivy.Index(schema)  # in memory
    writer = index.writer(heap_size=1_000_000_000, num_threads=1)
    for number, paper in enumerate(papers):
        document = tantivy.Document()
        document.add_unsigned("paper", number)
        document.add_text("title", paper.title)
        document.add_text("abstract", paper.abstract)
        for author in paper.authors:
            document.add_text("authors", author)
        for key in {k for c in paper.categories for k in category_keys(c)}:
            document.add_text("categories", key)
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    indexed = time.process_time()

    def phrase(field: str, value: str) -> "tantivy.Query":
        return index.parse_query('"' + value.replace("\\", " ").replace('"', " ") + '"', [field])

    def either(value: str) -> "tantivy.Query":
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, phrase("title", value)),
                (tantivy.Occur.Should, phrase("abstract", value)),
            ]
        )

    def query(kind: str, value: str) -> "tantivy.Query":
        if kind == "cat":
            return tantivy.Query.term_query(schema, "categories", value.lower())
        if kind == "author":
            return phrase("authors", value)
        return either(value)

    results: dict[str, ResultSet] = {}
    everything = searcher.num_docs
    for text in texts:
        required, excluded = clauses(text)
        parts = [(tantivy.Occur.Must, query(*c)) for c in required]
        parts += [(tantivy.Occur.MustNot, query(*c)) for c in excluded]
        hits = searcher.search(tantivy.Query.boolean_query(parts), everything, count=False).hits
        numbers = searcher.fast_field_values("paper", [address for _, address in hits])
        results[text] = dict(zip(numbers, (score for score, _ in hits), strict=True))
    done = time.process_time()
    return results, {"index": indexed - clock, "interests": done - indexed}


def _server_seconds(pid: int) -> float:
    """CPU seconds of a PostgreSQL server process so far (it runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_job(
    url: str, papers: list[Document], texts: list[str]
) -> tuple[dict[str, ResultSet], dict[str, float]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        server = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
        start = (time.process_time(), _server_seconds(server))

        def spent() -> float:
            return time.process_time() - start[0] + _server_seconds(server) - start[1]

        connection.execute("SET work_mem = '64MB'")
        connection.execute(
            "CREATE TEMP TABLE bench_raw (paper int, title text, abstract text, "
            "authors text, categories text[])"
        )
        with connection.cursor().copy(
            "COPY bench_raw (paper, title, abstract, authors, categories) FROM STDIN"
        ) as copy:
            for number, paper in enumerate(papers):
                keys = sorted({k for c in paper.categories for k in category_keys(c)})
                copy.write_row(
                    (number, paper.title, paper.abstract, " ; ".join(paper.authors), keys)
                )
        connection.execute(
            "CREATE TEMP TABLE bench_papers AS SELECT paper, "
            "setweight(to_tsvector('english', title), 'A') || "
            "setweight(to_tsvector('english', abstract), 'B') AS words, "
            "to_tsvector('simple', authors) AS authors, categories FROM bench_raw"
        )
        connection.execute("CREATE INDEX ON bench_papers USING gin (words)")
        connection.execute("CREATE INDEX ON bench_papers USING gin (authors)")
        connection.execute("CREATE INDEX ON bench_papers USING gin (categories)")
        connection.execute("ANALYZE bench_papers")
        indexed = spent()

        def condition(kind: str) -> str:
            if kind == "cat":
                return "categories @> ARRAY[%s]::text[]"
            if kind == "author":
                return "authors @@ phraseto_tsquery('simple', %s)"
            return "words @@ phraseto_tsquery('english', %s)"

        statements = []
        for text in texts:
            required, excluded = clauses(text)
            where = [condition(kind) for kind, _ in required]
            where += [f"NOT {condition(kind)}" for kind, _ in excluded]
            phrases = [value for kind, value in required if kind == "phrase"]
            rank = (
                " + ".join(["ts_rank(words, phraseto_tsquery('english', %s))"] * len(phrases))
                or "1"
            )
            sql = f"SELECT paper, {rank} FROM bench_papers WHERE {' AND '.join(where)}"
            values = [value.lower() if kind == "cat" else value for kind, value in required]
            values += [value.lower() if kind == "cat" else value for kind, value in excluded]
            statements.append((sql, [*phrases, *values]))
        results: dict[str, ResultSet] = {}
        cursors = []
        with connection.pipeline():
            for sql, values in statements:
                cursors.append(connection.execute(sql, values, prepare=True))
        for text, cursor in zip(texts, cursors, strict=True):
            results[text] = dict(cursor.fetchall())
        done = spent()
    return results, {"index": indexed, "interests": done - indexed}


# --- Comparison -----------------------------------------------------------------


def differences(engine: dict[str, ResultSet], peer: dict[str, ResultSet]) -> dict:
    same = only_engine = only_peer = 0
    for text, found in engine.items():
        theirs = peer.get(text, {})
        same += found.keys() == theirs.keys()
        only_engine += len(found.keys() - theirs.keys())
        only_peer += len(theirs.keys() - found.keys())
    return {
        "interests_same_papers": round(same / max(len(engine), 1), 3),
        "papers_only_engine": only_engine,
        "papers_only_peer": only_peer,
    }


def agreement(engine: list, peer: list) -> dict:
    """Per subscriber of the sample: same total, and the share of the engine's top 25
    that the peer's top 25 holds too."""
    same_total = overlap = counted = 0
    for (_, mine, mine_total), (_, theirs, their_total) in zip(engine, peer, strict=True):
        same_total += mine_total == their_total
        if mine:
            overlap += len(set(mine) & set(theirs)) / len(mine)
            counted += 1
    return {
        "subscribers_same_total": round(same_total / max(len(engine), 1), 3),
        "top25_overlap": round(overlap / max(counted, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--compare", type=int, default=2000, help="subscribers compared")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    papers = bench.make_papers(args.papers, rng)
    subscribers, _ = bench.make_subscribers(args.subscribers, 5, rng)
    texts = list(dict.fromkeys(text for interests in subscribers for text in interests))
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://")) and not args.no_postgres

    seconds: dict[str, list[float]] = {}
    walls: dict[str, list[float]] = {}
    phases: dict[str, list[dict]] = {}
    sets: dict[str, dict[str, ResultSet]] = {}

    def record(name: str, cpu: float, wall: float, phase: dict) -> None:
        seconds.setdefault(name, []).append(cpu)
        walls.setdefault(name, []).append(wall)
        phases.setdefault(name, []).append(phase)

    def peer(name: str, run: Callable[[], tuple[dict[str, ResultSet], dict[str, float]]]) -> None:
        wall = time.perf_counter()
        results, phase = run()
        started = time.process_time()
        combine(results, subscribers)
        phase["subscribers"] = time.process_time() - started
        record(name, sum(phase.values()), time.perf_counter() - wall, phase)
        sets[name] = results

    # Each paper's analysis as a fetch stores it (digest/analyses.py), for "stored".
    analyses = {paper.id: stored.make(paper) for paper in papers}

    # Each paper's record as the fetch that brought it makes it, for "evaluated".
    records, records_seconds = bench.make_records(papers, subscribers, bench.KEEP, dict(analyses))
    print(
        f"records made beforehand (as fetches make them): {records_seconds:.2f} s, "
        f"{records_seconds / len(papers) * 1000:.2f} ms a paper"
    )

    def engine_run(
        name: str, stored_analyses: dict | None, made: dict | None = None
    ) -> bench.PaperIndex:
        wall = time.perf_counter()
        index, engine = bench.job(
            papers, subscribers, LIMIT, analyses=stored_analyses, records=made
        )
        record(
            name,
            engine["seconds"],
            time.perf_counter() - wall,
            {k: engine[f"{k}_seconds"] for k in ("index", "interests", "subscribers")},
        )
        return index

    for _ in range(args.runs):
        engine_run("evaluated", dict(analyses), records)
        engine_run("stored", dict(analyses))  # the index consumes what it is given
        index = engine_run("engine", None)
        # The engine's result sets, for the limit and the comparison: paper -> points.
        found = {}
        for text in texts:
            interest = index._lookup(text)
            found[text] = dict(interest.scores) if interest is not None else {}
        wall = time.perf_counter()
        started = time.process_time()
        limit_sets = {text: dict(result) for text, result in found.items()}  # read once
        combine(limit_sets, subscribers)
        spent = time.process_time() - started
        record("limit", spent, time.perf_counter() - wall, {"subscribers": spent})
        sets["engine"] = found
        peer("tantivy", lambda: tantivy_job(papers, texts))
        if postgres:
            peer("postgres", lambda: postgres_job(url, papers, texts))
        del index

    sample = subscribers[: args.compare]
    numbers = {paper.id: number for number, paper in enumerate(papers)}
    fresh = bench.PaperIndex(papers)
    mine = []
    for number, interests in enumerate(sample):
        matches = fresh.match(interests, LIMIT)
        mine.append((number, tuple(numbers[r.document_id] for r in matches.results), matches.total))
    report: dict = {
        "papers": args.papers,
        "subscribers": args.subscribers,
        "distinct_interests": len(texts),
        "runs": args.runs,
    }
    print(
        f"{args.papers} papers, {args.subscribers} subscribers x 5 interests, "
        f"{len(texts)} distinct interests; CPU seconds, median of {args.runs} interleaved runs"
    )
    engine_median = statistics.median(seconds["engine"])
    for name in seconds:
        median = statistics.median(seconds[name])
        phase = {k: statistics.median(p[k] for p in phases[name]) for k in phases[name][0]}
        ratio = median / engine_median
        line = ", ".join(f"{k} {v:.2f}" for k, v in phase.items())
        print(
            f"{name:>9}: {median:6.2f} s ({line}; wall {statistics.median(walls[name]):.2f} s)"
            f"  = {ratio:.2f} x the engine's"
        )
        report[f"{name}_seconds"] = round(median, 2)
        report[f"{name}_phases"] = {k: round(v, 2) for k, v in phase.items()}
        if name not in ("engine", "limit", "stored", "evaluated"):
            report[f"{name}_over_engine"] = round(ratio, 2)
            keep: list = []
            combine(sets[name], sample, keep)
            report[f"{name}_differences"] = {
                **differences(sets["engine"], sets[name]),
                **agreement(mine, keep),
            }
            print(f"{'':>11}not the engine's semantics; differs: {report[name + '_differences']}")
    limit_median = statistics.median(seconds["limit"])
    report["engine_over_limit"] = round(engine_median / limit_median, 2)
    # At a window's time, with what each one makes of a paper made when it came: the
    # engine's analyses stored, tantivy's and PostgreSQL's indexes kept (their index
    # phase left out; the engine's "index" is then reading back and the interests).
    at_window = {name: statistics.median(seconds[name]) for name in ("evaluated", "stored")}
    for name in ("tantivy", "postgres"):
        if name in phases:
            at_window[name] = statistics.median(
                p["interests"] + p["subscribers"] for p in phases[name]
            )
    report["at_window_seconds"] = {k: round(v, 2) for k, v in at_window.items()}
    report["stored_over_limit"] = round(at_window["stored"] / limit_median, 2)
    report["evaluated_over_limit"] = round(at_window["evaluated"] / limit_median, 2)
    report["records_ms_per_paper"] = round(records_seconds / len(papers) * 1000, 2)
    for name in ("tantivy", "postgres"):
        if name in at_window:
            report[f"{name}_over_evaluated"] = round(
                statistics.median(seconds[name]) / at_window["evaluated"], 2
            )
            report[f"{name}_over_evaluated_at_window"] = round(
                at_window[name] / at_window["evaluated"], 2
            )
    print(
        "at a window's time, each paper's work done when it came (the engine's analyses "
        "stored, or its clauses evaluated too; the peers' indexes kept): "
        + ", ".join(f"{k} {v:.2f} s" for k, v in at_window.items())
        + f"; evaluated engine = {report['evaluated_over_limit']:.2f} x the limit, "
        f"stored engine = {report['stored_over_limit']:.2f} x"
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
