"""Precision and recall of the matching engine on a hand-labelled set of real arXiv papers.

Loads tests/relevance/papers.json (real papers) and tests/relevance/judgements.json
(interests with papers judged relevant or not), runs `digest.matching.match_papers`
for one interest at a time over ALL papers, and scores only the judged papers:
`relevant` and tricky cases marked relevant are positives, `not_relevant` and tricky
cases marked not relevant are negatives; unjudged papers are ignored.

    python bench/relevance.py [--papers PATH] [--judgements PATH]

Prints precision, recall and F1 per interest, then micro-averaged over all
interests; the last line is one JSON object.
"""

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RELEVANCE_DIR = ROOT / "tests" / "relevance"

# match(interest, papers) -> ids of the papers the engine returns for that interest.
Match = Callable[[str, Sequence[Mapping]], Iterable[str]]


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1}


def labels(judgement: Mapping) -> dict[str, bool]:
    """Map each judged paper id to True (relevant) or False, for one interest."""
    judged: dict[str, bool] = {}

    def put(paper_id: str, relevant: bool) -> None:
        if judged.get(paper_id, relevant) != relevant:
            raise ValueError(
                f"{judgement['interest']!r}: {paper_id} is judged both relevant and not"
            )
        judged[paper_id] = relevant

    for paper_id in judgement.get("relevant", ()):
        put(paper_id, True)
    for paper_id in judgement.get("not_relevant", ()):
        put(paper_id, False)
    for case in judgement.get("tricky", ()):
        put(case["id"], bool(case["relevant"]))
    return judged


def score(judgements: Sequence[Mapping], papers: Sequence[Mapping], match: Match) -> dict:
    """Score `match` against the judgements; pure, no engine import.

    Returns {"interests", "precision", "recall", "f1", "per_interest"}, where
    per_interest maps each interest to its precision, recall, f1 and counts.
    """
    known = {paper["id"] for paper in papers}
    per_interest: dict[str, dict] = {}
    total_tp = total_fp = total_fn = 0
    for judgement in judgements:
        interest = judgement["interest"]
        judged = labels(judgement)
        missing = sorted(set(judged) - known)
        if missing:
            raise ValueError(f"{interest!r} judges papers not in the paper set: {missing}")
        predicted = set(match(interest, papers))
        tp = sum(1 for pid, rel in judged.items() if rel and pid in predicted)
        fp = sum(1 for pid, rel in judged.items() if not rel and pid in predicted)
        fn = sum(1 for pid, rel in judged.items() if rel and pid not in predicted)
        tn = len(judged) - tp - fp - fn
        per_interest[interest] = {**_prf(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn, "tn": tn}
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn
    return {
        "interests": len(per_interest),
        **_prf(total_tp, total_fp, total_fn),
        "per_interest": per_interest,
    }


def engine_match() -> Match:
    """A Match that runs digest.matching.match_papers for one interest over all papers."""
    from digest.matching import Document, match_papers

    def document(paper: Mapping) -> Document:
        return Document(
            id=paper["id"],
            title=paper["title"],
            abstract=paper.get("abstract", ""),
            authors=tuple(paper.get("authors", ())),
            categories=tuple(paper.get("categories", ())),
            upvotes=paper.get("upvotes", 0),
        )

    cache: dict[int, list] = {}

    def match(interest: str, papers: Sequence[Mapping]) -> list[str]:
        documents = cache.setdefault(id(papers), [document(paper) for paper in papers])
        return [result.document_id for result in match_papers([interest], documents)]

    return match


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=Path, default=RELEVANCE_DIR / "papers.json")
    parser.add_argument("--judgements", type=Path, default=RELEVANCE_DIR / "judgements.json")
    args = parser.parse_args(argv)

    papers = json.loads(args.papers.read_text(encoding="utf-8"))
    judgements = json.loads(args.judgements.read_text(encoding="utf-8"))
    result = score(judgements, papers, engine_match())

    width = max((len(interest) for interest in result["per_interest"]), default=8)
    print(f"{'interest':<{width}}  precision  recall     f1  tp fp fn tn")
    for interest, row in result["per_interest"].items():
        print(
            f"{interest:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  "
            f"{row['f1']:5.3f}  {row['tp']:2} {row['fp']:2} {row['fn']:2} {row['tn']:2}"
        )
    print(
        f"{'micro-average':<{width}}  {result['precision']:9.3f}  {result['recall']:6.3f}  "
        f"{result['f1']:5.3f}  ({len(papers)} papers, {result['interests']} interests)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
