"""Does a reader's model learn? Simulated readers on the hand-judged real papers of
tests/relevance/v2/ (bench/relevance.py loads them), and what training costs.

For each judged interest and each part (tuning, held-out: the part's papers are the
window), a reader gets the keyword digest (digest.matching, the interest alone) and
reads it from the top: each paper shown is a click, "more like this" when the judges
called it relevant, "less" when not (borderline papers are not in the window). After
each click the reader's model is trained again (digest.learning.reader) and the
next digest ranked by it (digest.learning.rank), exactly as the service does. At 0,
5, 10 and 20 clicks both rankings are scored on the papers not clicked yet (what a
next digest would hold), against the same papers:

- precision@10 and nDCG@10 (binary gains), macro-averaged over the interests with a
  relevant paper left;
- recall of the relevant papers the keywords miss: of those left, how many the digest
  shows (its first DIGEST_MAX_PAPERS, 25) as suggestions (keyword-only: none).

Parameters (rank.Tuning, reader.C/MIN_PER_CLASS) were chosen on the tuning part only
(`--grid` prints the search, on the tuning part); the held-out part is reported.
Then the cost: training a reader (ms, median over realistic example sets) and 100,000
readers extrapolated; the last line is one JSON object.

    python bench/learning.py [--grid] [--dir tests/relevance/v2]
"""

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.relevance import PARTS, V2_DIR, document, load_v2  # noqa: E402
from digest.learning import rank, reader  # noqa: E402
from digest.learning.representation import HashedTfidf, paper_text  # noqa: E402
from digest.matching import match_papers  # noqa: E402

STEPS = (0, 5, 10, 20)
SHOWN = 25  # DIGEST_MAX_PAPERS: what one email shows
TOP = 10


def _dcg(gains: Sequence[int]) -> float:
    return sum(gain / math.log2(place + 2) for place, gain in enumerate(gains))


def _ndcg(order: Sequence[str], relevant: set[str]) -> float:
    ideal = _dcg([1] * min(len(relevant), TOP))
    return _dcg([int(pid in relevant) for pid in order[:TOP]]) / ideal if ideal else 0.0


def _precision(order: Sequence[str], relevant: set[str]) -> float:
    return sum(pid in relevant for pid in order[:TOP]) / TOP


class Window:
    """One part's papers as the service would hold them: vectors and documents."""

    def __init__(self, papers: Sequence[Mapping], representation: HashedTfidf) -> None:
        self.ids = [paper["id"] for paper in papers]
        self.row = {pid: n for n, pid in enumerate(self.ids)}
        self.vectors = representation.transform(
            [paper_text(p["title"], p.get("abstract", "")) for p in papers]
        )
        self.documents = {paper["id"]: document(paper) for paper in papers}
        self._keyword: dict[tuple, list[str]] = {}

    def keyword(self, interest: str, pool: Sequence[str]) -> list[str]:
        """The interest's matches in `pool`, best first. A paper's score for one interest
        is its own, so the matches of a smaller pool are those of the whole, in order."""
        key = (interest, tuple(pool))
        if key not in self._keyword:
            found = match_papers([interest], map(self.documents.get, pool))
            self._keyword[key] = [r.document_id for r in found]
        return self._keyword[key]


def _train(window: Window, clicks: Mapping[str, int]) -> reader.ReaderModel | None:
    # Newest likes first, as the service keeps them.
    liked = [window.row[pid] for pid, value in reversed(list(clicks.items())) if value > 0]
    disliked = [window.row[pid] for pid, value in clicks.items() if value < 0]
    return reader.train(window.vectors[liked], window.vectors[disliked])


def _digest(
    window: Window,
    pool: list[str],
    keyword: list[str],
    model: reader.ReaderModel | None,
    tuning: rank.Tuning,
) -> tuple[list[str], set[str]]:
    """The ranking of `pool` a reader with `model` gets, and its suggestions."""
    if model is None:
        return keyword, set()
    rows = [window.row[pid] for pid in pool]
    place = {pid: n for n, pid in enumerate(pool)}
    ranked = rank.rank(model, window.vectors[rows], [place[pid] for pid in keyword], (), tuning)
    return [pool[n] for n in ranked.order], {pool[n] for n in ranked.suggested}


def simulate(
    window: Window, interest: str, relevant: set[str], pool: list[str], tuning: rank.Tuning
) -> dict[int, dict]:
    """Figures at each step of STEPS for one interest's reader."""
    clicks: dict[str, int] = {}
    model = None
    found: dict[int, dict] = {}
    whole = window.keyword(interest, pool)
    while True:
        left = [pid for pid in pool if pid not in clicks]
        keyword = [pid for pid in whole if pid not in clicks]
        order, suggested = _digest(window, left, keyword, model, tuning)
        unread = [pid for pid in order[:SHOWN] if pid not in clicks]
        done = len(clicks) == STEPS[-1] or not unread
        # A reader with nothing more to click stays at their count for the later steps.
        for step in STEPS:
            if step not in found and (step == len(clicks) or (done and step > len(clicks))):
                if len(clicks) == 0 and order != keyword:
                    raise AssertionError("no clicks must be the keyword digest exactly")
                found[step] = _figures(left, keyword, order, suggested, relevant, len(clicks))
        if done:
            return found
        clicks[unread[0]] = 1 if unread[0] in relevant else -1
        model = _train(window, clicks)


def _figures(
    left: list[str],
    keyword: list[str],
    order: list[str],
    suggested: set[str],
    relevant: set[str],
    clicks: int,
) -> dict:
    relevant_left = relevant & set(left)
    missed = relevant_left - set(keyword)
    return {
        "clicks": clicks,
        "relevant": len(relevant_left),
        "p10": (_precision(keyword, relevant_left), _precision(order, relevant_left)),
        "ndcg10": (_ndcg(keyword, relevant_left), _ndcg(order, relevant_left)),
        "missed": len(missed),
        "missed_found": len(missed & set(order[:SHOWN]) & suggested),
    }


def evaluate(
    windows: Mapping[str, Window],
    judgements: Mapping[str, Mapping],
    part: str,
    tuning: rank.Tuning,
) -> dict[int, dict]:
    window = windows[part]
    per_step: dict[int, list[dict]] = {step: [] for step in STEPS}
    for interest, judged in judgements.items():
        pool = [pid for pid in window.ids if pid not in judged["borderline"]]
        for step, figures in simulate(window, interest, judged["relevant"], pool, tuning).items():
            per_step[step].append(figures)
    summary: dict[int, dict] = {}
    for step, rows in per_step.items():
        scored = [row for row in rows if row["relevant"]]
        missed = sum(row["missed"] for row in rows)
        summary[step] = {
            "readers": len(rows),
            "scored": len(scored),
            "mean_clicks": statistics.fmean(row["clicks"] for row in rows),
            **{
                f"{metric}_{which}": statistics.fmean(row[metric][side] for row in scored)
                if scored
                else 0.0
                for metric in ("p10", "ndcg10")
                for side, which in ((0, "keyword"), (1, "learning"))
            },
            "missed": missed,
            "missed_recall_keyword": 0.0,
            "missed_recall_learning": sum(row["missed_found"] for row in rows) / missed
            if missed
            else 0.0,
        }
    return summary


def _print(part: str, summary: Mapping[int, dict]) -> None:
    print(f"\n== {part}")
    print(
        "clicks (made) scored  P@10 kw  learn   nDCG@10 kw  learn   missed-recall kw  learn"
        " (missed)"
    )
    for step, row in summary.items():
        print(
            f"{step:6} ({row['mean_clicks']:4.1f}) {row['scored']:6}  {row['p10_keyword']:7.3f} "
            f"{row['p10_learning']:6.3f}   {row['ndcg10_keyword']:10.3f} "
            f"{row['ndcg10_learning']:6.3f}   {row['missed_recall_keyword']:16.3f} "
            f"{row['missed_recall_learning']:6.3f} ({row['missed']})"
        )


def improves(summary: Mapping[int, dict]) -> bool:
    """Better on every figure at 10 clicks, and equal at 0."""
    ten, zero = summary[10], summary[0]
    return (
        all(ten[f"{m}_learning"] > ten[f"{m}_keyword"] for m in ("p10", "ndcg10"))
        and ten["missed_recall_learning"] > 0
        and all(zero[f"{m}_learning"] == zero[f"{m}_keyword"] for m in ("p10", "ndcg10"))
        and zero["missed_recall_learning"] == 0
    )


def training_cost(window: Window, repeats: int = 200) -> dict:
    """Median ms to train one reader from a realistic example set (vectors given: a
    run vectorizes its papers once), for a few sizes; and per paper vectorized."""
    rng = np.random.default_rng(15)
    rows = window.vectors.shape[0]
    out: dict[str, float] = {}
    for likes, dislikes in ((3, 0), (5, 5), (10, 10), (25, 25)):
        times = []
        for _ in range(repeats):
            chosen = rng.choice(rows, likes + dislikes, replace=False)
            started = time.perf_counter()
            model = reader.train(window.vectors[chosen[:likes]], window.vectors[chosen[likes:]])
            reader.to_bytes(model)
            times.append(time.perf_counter() - started)
        out[f"{likes}+{dislikes}"] = statistics.median(times) * 1000
    return out


def grid(windows: Mapping[str, Window], judgements: Mapping[str, Mapping]) -> None:
    """The search the defaults come from, on the tuning part only."""
    print(
        "weight half_at min_sim  C   min/class | 10 clicks: P@10 (kw)     nDCG@10 (kw)"
        "     missed-recall"
    )
    for weight, half_at, min_sim, c, per_class in itertools.product(
        (0.6, 0.8), (3, 5), (0.0, 0.03, 0.05), (1.0,), (3,)
    ):
        reader.C, reader.MIN_PER_CLASS = c, per_class
        tuning = rank.Tuning(weight=weight, half_at=half_at, min_similarity=min_sim)
        ten = evaluate(windows, judgements, "tuning", tuning)[10]
        print(
            f"{weight:6} {half_at:7} {min_sim:7} {c:4} {per_class:9} | "
            f"{ten['p10_learning']:15.3f} ({ten['p10_keyword']:.3f}) "
            f"{ten['ndcg10_learning']:8.3f} ({ten['ndcg10_keyword']:.3f}) "
            f"{ten['missed_recall_learning']:9.3f}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=V2_DIR)
    parser.add_argument("--grid", action="store_true", help="the parameter search (tuning part)")
    args = parser.parse_args(argv)

    _, papers, judgements = load_v2(args.dir)
    # Fitted on every stored paper, as the service fits it (no judgement is used).
    representation = HashedTfidf()
    representation.fit([paper_text(p["title"], p.get("abstract", "")) for p in papers])
    windows = {
        part: Window([p for p in papers if p["part"] == part], representation) for part in PARTS
    }
    if args.grid:
        grid(windows, judgements)
        return
    out: dict[str, object] = {}
    for part in PARTS:
        summary = evaluate(windows, judgements, part, rank.Tuning())
        _print(part, summary)
        out[part] = {"steps": {str(step): row for step, row in summary.items()}}
        out[part]["improves_at_10_and_equal_at_0"] = improves(summary)
        print(f"better on every figure at 10 clicks, equal at 0: {improves(summary)}")

    cost = training_cost(windows["tuning"])
    started = time.perf_counter()
    texts = [paper_text(p["title"], p.get("abstract", "")) for p in papers]
    representation.transform(texts)
    per_paper_ms = (time.perf_counter() - started) * 1000 / len(texts)
    typical = cost["10+10"]
    print("\n== training (one reader, vectors given; median ms)")
    for size, ms in cost.items():
        print(f"  {size:>6} likes+dislikes: {ms:6.2f} ms")
    print(f"  vectorizing: {per_paper_ms:.3f} ms a paper (once per run, not per reader)")
    print(
        f"  100,000 readers at 10+10: {typical * 100_000 / 1000 / 60:.1f} min on one core "
        f"(+ their papers vectorized once)"
    )
    out["training_ms"] = cost
    out["vectorize_ms_per_paper"] = per_paper_ms
    out["readers_100k_minutes"] = typical * 100_000 / 1000 / 60
    print(json.dumps(out))


if __name__ == "__main__":
    main()
