"""Whether two versions of the engine give the same results on bench/matching.py's data.

A change to the engine that should change no result (a faster analysis, another
representation) is checked by dumping, with each version, every result the
bench's data gives, then comparing the dumps:

    git worktree add --detach /tmp/before <base>
    (cd /tmp/before && PYTHONHASHSEED=0 python $OLDPWD/bench/same_results.py dump /tmp/a.pkl)
    PYTHONHASHSEED=0 python bench/same_results.py dump /tmp/b.pkl
    python bench/same_results.py compare /tmp/a.pkl /tmp/b.pkl

The engine dumped is the one of the current directory (a checkout's root), so
this file can dump a version older than itself.

A dump holds, for bench/matching.py's papers and interest pool (same seed):
every pool interest's ranked results with their reasons (alone, no limit),
the first --subscribers subscribers' best 25 and totals, and every clause's
papers and Hits (fields, words as written, looseness). `--keep` indexes in
blocks of that many papers (the path of a big window). Both versions run with
the same PYTHONHASHSEED, so that nothing but the code differs.

The last line is one JSON object.
"""

import argparse
import json
import pickle
import random
import sys
from pathlib import Path

# The checkout of the current directory: its engine and its bench/matching.py.
sys.path.insert(0, str(Path.cwd() / "bench"))
sys.path.insert(0, str(Path.cwd()))

import matching as bench  # bench/matching.py, found through sys.path

from digest.matching import PaperIndex, query


def dump(path: str, papers: int, keep: int, subscribers: int, seed: int) -> dict:
    rng = random.Random(seed)
    documents = bench.make_papers(papers, rng)
    people, pool = bench.make_subscribers(max(subscribers, 1), 5, rng)
    query._COMPILED.update(concepts=None, phrases={})
    index = PaperIndex(documents, interests=pool, keep=keep or None)
    found = {
        "pool": [(text, index.match([text], None)) for text in pool],
        "subscribers": [index.match(interests, 25) for interests in people[:subscribers]],
        "clauses": {
            repr(clause): (mask, sorted(hits.items()))
            for clause, (mask, hits) in index._clauses.items()
        },
    }
    with open(path, "wb") as out:
        pickle.dump(found, out)
    return {
        "dumped": path,
        "interests": len(pool),
        "papers_matched": sum(m.total for _, m in found["pool"]),
        "clauses": len(found["clauses"]),
    }


def compare(first: str, second: str) -> dict:
    with open(first, "rb") as a, open(second, "rb") as b:
        one, two = pickle.load(a), pickle.load(b)
    report = {}
    for part in one:
        left, right = one[part], two[part]
        if isinstance(left, dict):
            differ = sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
        else:
            differ = [i for i, (x, y) in enumerate(zip(left, right, strict=True)) if x != y]
        report[part] = {"compared": len(left), "differ": len(differ)}
        print(f"{part}: {len(left)} compared, {len(differ)} differ {differ[:5] if differ else ''}")
    report["identical"] = all(r["differ"] == 0 for r in report.values())
    print("IDENTICAL" if report["identical"] else "DIFFERENT")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("dump")
    made.add_argument("path")
    made.add_argument("--papers", type=int, default=2000)
    made.add_argument("--keep", type=int, default=0, help="index in blocks of this many; 0: one")
    made.add_argument("--subscribers", type=int, default=20_000)
    made.add_argument("--seed", type=int, default=2026)
    compared = commands.add_parser("compare")
    compared.add_argument("first")
    compared.add_argument("second")
    args = parser.parse_args()
    if args.command == "dump":
        result = dump(args.path, args.papers, args.keep, args.subscribers, args.seed)
    else:
        result = compare(args.first, args.second)
    print(json.dumps(result))
    if args.command == "compare" and not result["identical"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
