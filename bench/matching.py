"""How fast the matching engine serves many subscribers, against the plain loop.

Papers are the bundled real sample (digest/sample/*.jsonl.gz: 498 arXiv and
Hugging Face records, median abstract 190 words) resampled to the size asked
for, each copy with an id of its own; so a window of 2,000 or 15,000 papers
reads like real ones, though each text comes back several times.

Interests follow a long tail: a head of what many people follow (the
relevance set's interests, the vocabulary's acronyms and thesaurus phrases), a
tail of what few do (concept-graph labels, phrases from the sample's titles,
its authors and categories, exclusions and AND of two), drawn with a Zipf
skew over that ranked pool, 5 per subscriber, independently. The share of
distinct interests (distinct / interests drawn) is printed.

Measures, on one core, in CPU seconds of this process (time.process_time: the
figures hold on a machine that other work shares too):

- the engine's whole job: index the papers once and evaluate every distinct
  interest (while indexing, as a sender that knows its subscribers' interests
  does; `--lazy`: after it, one by one, the preview's way), then every
  subscriber's best 25 (the digest's cap) and total; each phase's seconds; at
  most --keep paper analyses are kept (the rest are made again if asked);
- the plain loop: each paper analysed once (what a sender without the index
  would do), then per subscriber every interest against every paper and the
  ranking (`engine.match_analyzed`), on a sample of subscribers, extrapolated
  to all of them; the sample's results are checked equal to the engine's;
- peak memory of the process during the engine's job (Linux: VmHWM, reset just
  before the job, so what was made beforehand, the records' making, does not
  count; elsewhere ru_maxrss), and its resident memory when the job starts (the
  bench's data).

    python bench/matching.py [--papers 2000|15000] [--subscribers 100000|1000000]
                             [--sample 20] [--seed 2026] [--keep 2048] [--lazy] [--stored]
                             [--evaluated]

`--stored`: each paper's analysis made beforehand, as a fetch stores it
(digest/analyses.py), and the index reads it back from these bytes (in memory
here; a sender reads them from the database); their making is printed apart.

`--evaluated`: every distinct interest's clauses evaluated on each paper
beforehand and recorded (digest/evaluations.py: what the fetch that brought a
paper does), as (key, clause set, hits' bytes); the job decodes the records and
the index takes each clause's hits from them, evaluating only what they lack;
their making is printed apart.

Prints its figures; the last line is one JSON object. bench/peers.py runs the
same job (same papers, same subscribers) through tantivy and PostgreSQL.
"""

import argparse
import bisect
import gzip
import itertools
import json
import multiprocessing
import pickle
import random
import re
import resource
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest import heap
from digest.matching import (
    Document,
    InterestSyntaxError,
    PaperIndex,
    default_concepts,
    evaluated,
    parse,
    query,
    stored,
)
from digest.matching.engine import match_analyzed
from digest.matching.evaluate import AnalyzedDocument

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = ROOT / "digest" / "sample"
# Analyses the engine keeps after indexing (~100 KB each): a bound on its memory.
KEEP = 2048
# Words a title phrase may not start or end with: "of the", "for robust".
STOP = {
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "of", "on",
    "or", "over", "the", "to", "toward", "towards", "under", "via", "with", "without", "we",
    "our", "its", "their", "can", "using", "based", "through", "between", "beyond", "new",
    "versus", "vs",
}  # fmt: skip


def records() -> list[dict]:
    """The sample's papers, once each, with their Hugging Face upvotes where there are any."""
    found: dict[str, dict] = {}
    upvotes: dict[str, int] = {}
    for name in ("arxiv-records.jsonl.gz", "hf-daily-records.jsonl.gz"):
        with gzip.open(SAMPLE / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                upvotes[record["id"]] = max(
                    upvotes.get(record["id"], 0), record.get("upvotes") or 0
                )
                found.setdefault(record["id"], record)
    return [dict(r, upvotes=upvotes[r["id"]]) for r in found.values()]


def make_papers(count: int, rng: random.Random) -> list[Document]:
    """`count` papers drawn from the real sample, each with an id of its own."""
    sample = records()
    return [
        Document(
            id=f"2612.{n:05d}",
            title=r["title"],
            abstract=r["abstract"],
            authors=tuple(r.get("authors") or ()),
            categories=tuple(r.get("categories") or ()),
            upvotes=r["upvotes"],
        )
        for n, r in enumerate(rng.choice(sample) for _ in range(count))
    ]


def _title_phrases(sample: list[dict]) -> list[str]:
    """Two- and three-word runs of the sample's titles, as a reader might type them."""
    found = []
    for record in sample:
        words = re.findall(r"[A-Za-z][A-Za-z-]+", record["title"])
        for size in (2, 3):
            for run in zip(*(words[i:] for i in range(size)), strict=False):
                if run[0].lower() not in STOP and run[-1].lower() not in STOP:
                    found.append(" ".join(run).lower())
    return list(dict.fromkeys(found))


def interest_pool(rng: random.Random) -> list[str]:
    """Distinct interests, most popular first: a head many follow, then a long tail."""
    package = ROOT / "digest" / "matching"
    concepts = tomllib.loads((package / "concepts.toml").read_text())
    derived = tomllib.loads((package / "concepts_derived.toml").read_text())
    relevance = (ROOT / "tests" / "relevance" / "v2" / "interests.md").read_text()
    listed = relevance.split("<!-- interests -->")[1].split("<!-- /interests -->")[0]
    sample = records()

    head = [line.strip() for line in listed.splitlines() if line.strip()]
    head += [acronym.upper() for acronym in concepts["acronyms"]]
    head += [form for forms in concepts["acronyms"].values() for form in forms]
    head += [phrase for group in concepts["synonyms"].values() for phrase in group]
    head += [p for broad, narrow in concepts["narrower"].items() for p in (broad, *narrow)]
    rng.shuffle(head)

    labels = list(derived["concept"])
    titles = _title_phrases(sample)
    authors = list(dict.fromkeys(a for r in sample for a in r.get("authors") or ()))
    categories = sorted({c for r in sample for c in r.get("categories") or ()})
    phrases = head + labels
    tail = labels + titles
    tail += [f'author:"{name}"' for name in rng.sample(authors, min(len(authors), 1500))]
    tail += [f"cat:{category}" for category in categories]
    tail += [f"{rng.choice(phrases)} -{rng.choice(titles)}" for _ in range(1000)]
    tail += [f"{rng.choice(head)} AND {rng.choice(phrases)}" for _ in range(1500)]
    rng.shuffle(tail)

    concepts_ = default_concepts()
    usable = []
    for text in dict.fromkeys(head + tail):
        try:
            parse(text, concepts_)
        except InterestSyntaxError:
            continue
        usable.append(text)
    return usable


def make_subscribers(
    count: int, per: int, rng: random.Random, skew: float = 1.0
) -> tuple[list[list[str]], list[str]]:
    """`count` subscribers with `per` interests each, Zipf-drawn from the pool; and the pool."""
    pool = interest_pool(rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** skew for rank in range(len(pool))))
    top = cumulative[-1]
    random_ = rng.random
    subscribers = [
        [pool[bisect.bisect(cumulative, random_() * top)] for _ in range(per)] for _ in range(count)
    ]
    return subscribers, pool


def job(
    papers: list[Document],
    subscribers: list[list[str]],
    limit: int,
    *,
    keep: int | None = KEEP,
    lazy: bool = False,
    analyses: dict[str, tuple[str, bytes]] | None = None,
    records: dict[str, tuple[str, frozenset[str], bytes]] | None = None,
) -> tuple[PaperIndex, dict]:
    """The engine's whole job, timed by phase: the distinct interests evaluated while
    the papers are indexed (a sender knows its subscribers' interests), or, `lazy`,
    after it, one by one as subscribers ask (the preview's way). The index is built as
    a sender builds its window's (digest/heap.py: frozen out of the cycle collector's
    passes after one full pass, which the index's seconds include). `analyses`: the
    papers' stored ones (stored.make, as a fetch makes them), read back by the index.
    `records`: the papers' evaluated clauses as a fetch stores them (make_records),
    decoded and read back by the index within the job's seconds."""
    texts = list(dict.fromkeys(text for interests in subscribers for text in interests))
    # Cold, as a sender's first chunk: no phrase compiled yet (interest_pool's check of
    # every interest would have compiled them all).
    query._COMPILED.update(concepts=None, phrases={})
    started = time.process_time()
    with heap.frozen_when_built(len(papers) >= heap.FREEZE_FROM):
        shared: dict = {}  # as digest/evaluations.records_of reads them
        read = records and {
            paper_id: evaluated.read(*record, shared) for paper_id, record in records.items()
        }
        index = PaperIndex(
            papers,
            interests=() if lazy else texts,
            keep=keep,
            stored=analyses,
            evaluated=read or None,
        )
        del read, shared  # a sender's window drops them once its index is built
    indexed = time.process_time()
    for text in texts:
        index.papers_of(text)
    interests_done = time.process_time()
    matched_papers = digests = 0
    for interests in subscribers:
        matches = index.match(interests, limit)
        matched_papers += len(matches.results)
        digests += bool(matches.total)
    done = time.process_time()
    return index, {
        "seconds": done - started,
        "index_and_interests_seconds": interests_done - started,
        "index_seconds": indexed - started,
        "interests_seconds": interests_done - indexed,
        "subscribers_seconds": done - interests_done,
        "digests": digests,
        "papers_per_digest": matched_papers / max(digests, 1),
    }


def make_records(
    papers: list[Document],
    subscribers: list[list[str]],
    keep: int | None,
    analyses: dict[str, tuple[str, bytes]] | None,
) -> tuple[dict[str, tuple[str, frozenset[str], bytes]], float]:
    """Every distinct interest's clauses evaluated on the papers and recorded, as the
    fetches that brought them record them (digest/evaluations.py): each paper's record
    as stored (its key, the clause set, its hits' bytes); and the CPU seconds taken."""
    texts = list(dict.fromkeys(text for interests in subscribers for text in interests))
    started = time.process_time()
    index = PaperIndex(papers, interests=texts, keep=keep, stored=analyses)
    clauses, hits = index.evaluations()
    by_id = {paper.id: paper for paper in papers}
    records = {
        paper_id: (evaluated.key(by_id[paper_id]), clauses, evaluated.dumps_hits(found))
        for paper_id, found in hits.items()
    }
    return records, time.process_time() - started


def _made_beforehand(
    papers: list[Document],
    subscribers: list[list[str]],
    keep: int | None,
    analyses: bool,
    records: bool,
) -> tuple[dict | tuple[str, float] | None, float, dict | None, float]:
    """The papers' stored analyses (`analyses`) and records (`records`), as the fetches
    that brought them make them, with the CPU seconds of each."""
    stored_analyses, store_seconds = None, 0.0
    if analyses:
        started = time.process_time()
        stored_analyses = {paper.id: stored.make(paper) for paper in papers}
        store_seconds = time.process_time() - started
    made, records_seconds = None, 0.0
    if records:
        copy = dict(stored_analyses) if stored_analyses else None
        made, records_seconds = make_records(papers, subscribers, keep, copy)
    if stored_analyses and made:
        # On disk, as in the database, read only if a clause is still to evaluate (as
        # digest/analyses.StoredAnalyses reads them): a sender's window whose records
        # have every clause reads none.
        kb = sum(len(data) for _, data in stored_analyses.values()) / len(papers) / 1024
        return _OnDisk.write(stored_analyses, kb), store_seconds, made, records_seconds
    return stored_analyses, store_seconds, made, records_seconds


class _OnDisk:
    """Stored analyses kept in a temporary file, read back whole when first asked."""

    def __init__(self, path: str, kb_per_paper: float) -> None:
        self._path, self.kb_per_paper = Path(path), kb_per_paper
        self._read: dict[str, tuple[str, bytes]] | None = None

    @staticmethod
    def write(analyses: dict[str, tuple[str, bytes]], kb_per_paper: float) -> tuple[str, float]:
        """The file's name, for an _OnDisk in another process."""
        handle, name = tempfile.mkstemp(prefix="bench-analyses-")
        with open(handle, "wb") as file:
            pickle.dump(analyses, file)
        return name, kb_per_paper

    def __bool__(self) -> bool:
        return True

    def __del__(self) -> None:
        self._path.unlink(missing_ok=True)

    def pop(self, paper_id: str, default: None = None) -> tuple[str, bytes] | None:
        if self._read is None:
            with self._path.open("rb") as file:
                self._read = pickle.load(file)
        return self._read.pop(paper_id, default)


def _reset_peak_memory() -> bool:
    """Reset this process's peak resident memory (Linux's VmHWM), if it can be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _memory_mb(field: str) -> float:
    """VmRSS or VmHWM of this process in MB (Linux); else the peak, ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--interests", type=int, default=5)
    parser.add_argument("--sample", type=int, default=20, help="subscribers for the plain loop")
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", type=int, default=KEEP, help="analyses kept; 0: all")
    parser.add_argument(
        "--lazy", action="store_true", help="interests evaluated after indexing, one by one"
    )
    parser.add_argument(
        "--stored",
        action="store_true",
        help="the papers' analyses made beforehand (as a fetch stores them) and read back",
    )
    parser.add_argument(
        "--evaluated",
        action="store_true",
        help="every interest's clauses evaluated on each paper beforehand and recorded "
        "(as a fetch records them), the index reading the records",
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    papers = make_papers(args.papers, rng)
    subscribers, pool = make_subscribers(args.subscribers, args.interests, rng)
    drawn = args.subscribers * args.interests
    distinct = len({text for interests in subscribers for text in interests})

    # Made in a child process, as the fetches made them in theirs: what making them
    # leaves in a process's heap is not the job's.
    with multiprocessing.get_context("fork").Pool(1) as child:
        stored_analyses, store_seconds, made_records, records_seconds = child.apply(
            _made_beforehand,
            (papers, subscribers, args.keep or None, args.stored, args.evaluated),
        )
    stored_kb = records_kb = 0.0
    if isinstance(stored_analyses, tuple):  # on disk
        stored_analyses = _OnDisk(*stored_analyses)
        stored_kb = stored_analyses.kb_per_paper
    elif stored_analyses:
        stored_kb = sum(len(data) for _, data in stored_analyses.values()) / len(papers) / 1024
    if made_records:
        records_kb = sum(len(data) for _, _, data in made_records.values()) / len(papers) / 1024
    before_mb = _memory_mb("VmRSS")
    _reset_peak_memory()
    index, engine = job(
        papers,
        subscribers,
        args.limit,
        keep=args.keep or None,
        lazy=args.lazy,
        analyses=stored_analyses,
        records=made_records,
    )
    peak_mb = _memory_mb("VmHWM")

    concepts = default_concepts()
    analysed_started = time.process_time()
    analysed = [AnalyzedDocument(paper, concepts) for paper in papers]
    analyse_seconds = time.process_time() - analysed_started
    sample = rng.sample(range(args.subscribers), min(args.sample, args.subscribers))
    loop_seconds = 0.0
    for s in sample:
        loop_started = time.process_time()
        expected = match_analyzed(subscribers[s], analysed, limit=args.limit, concepts=concepts)
        loop_seconds += time.process_time() - loop_started
        assert index.match(subscribers[s], args.limit).results == expected, "paths differ"
    loop_per_subscriber = loop_seconds / len(sample)
    loop_total = analyse_seconds + loop_per_subscriber * args.subscribers

    print(f"{args.papers} papers (resampled from {len(records())} real ones), "
          f"{args.subscribers} subscribers x {args.interests} interests")  # fmt: skip
    print(
        f"interests: {distinct} distinct of {drawn} drawn ({distinct / drawn:.2%}), "
        f"from a pool of {len(pool)}"
    )
    mode = "lazy: after indexing, one by one" if args.lazy else "while indexing"
    print(
        f"engine: {engine['seconds']:.2f} s in all: index and interests "
        f"{engine['index_and_interests_seconds']:.2f} s ({mode}: index "
        f"{engine['index_seconds']:.2f} s, then interests {engine['interests_seconds']:.2f} s), "
        f"subscribers {engine['subscribers_seconds']:.2f} s "
        f"({args.subscribers / engine['subscribers_seconds']:,.0f}/s); "
        f"{engine['digests']} subscribers with a digest, "
        f"{engine['papers_per_digest']:.1f} papers each; {args.keep or 'all'} analyses kept; "
        f"peak memory {peak_mb:.0f} MB ({before_mb:.0f} MB before the job: the bench's data)"
    )
    if args.stored:
        print(
            f"analyses stored beforehand (as fetches store them, not in the job's seconds): "
            f"{store_seconds:.2f} s, {store_seconds / args.papers * 1000:.2f} ms and "
            f"{stored_kb:.1f} KB a paper; the job reads them back from "
            + (
                "a file, if a clause is still to evaluate (as a sender reads them "
                "from the database)"
                if args.evaluated
                else "memory (and drops each once read, as a sender's index does)"
            )
        )
    if args.evaluated:
        print(
            f"clauses evaluated and recorded beforehand (as fetches record them, not in "
            f"the job's seconds): {records_seconds:.2f} s, "
            f"{records_seconds / args.papers * 1000:.2f} ms and {records_kb:.1f} KB a "
            f"paper; the job decodes the records and reads them back"
        )
    print(
        f"plain loop: analysis {analyse_seconds:.2f} s, then {loop_per_subscriber * 1000:.1f} ms "
        f"per subscriber (sample of {len(sample)}, results equal), "
        f"extrapolated: {loop_total:,.0f} s"
    )
    print(f"engine is {loop_total / engine['seconds']:,.1f} times faster than the plain loop")
    print(
        json.dumps(
            {
                "papers": args.papers,
                "subscribers": args.subscribers,
                "distinct_interests": distinct,
                "distinct_share": round(distinct / drawn, 4),
                "engine_seconds": round(engine["seconds"], 2),
                "index_and_interests_seconds": round(engine["index_and_interests_seconds"], 2),
                "index_seconds": round(engine["index_seconds"], 2),
                "interests_seconds": round(engine["interests_seconds"], 2),
                "subscribers_seconds": round(engine["subscribers_seconds"], 2),
                "plain_loop_seconds_extrapolated": round(loop_total),
                "plain_loop_ms_per_subscriber": round(loop_per_subscriber * 1000, 2),
                "plain_loop_sample": len(sample),
                "speedup": round(loop_total / engine["seconds"], 1),
                "peak_memory_mb": round(peak_mb),
                "memory_before_job_mb": round(before_mb),
                "mode": "lazy" if args.lazy else "interests known",
                "analyses_kept": args.keep or "all",
                "analyses_stored_beforehand": args.stored,
                "store_seconds": round(store_seconds, 2),
                "clauses_evaluated_beforehand": args.evaluated,
                "records_seconds": round(records_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
