"""Precision and recall of the matching engine on hand-judged real arXiv papers, against
a fair word-boundary baseline.

Set v2 (the default), tests/relevance/v2/:

- interests.md: the interests, one a line between `<!-- interests -->` and
  `<!-- /interests -->`;
- papers.json: the papers, each with "part": "tuning" or "held-out";
- judgements/*.json: one file per interest, complete: every paper it lists as
  relevant is a positive, every paper it lists as borderline is not scored
  either way, and every other paper is a negative. An interest whose file has
  not arrived is not scored.

Each interest runs alone over ALL papers (`digest.matching.match_papers`), and so
does the baseline: the interest's words in order as whole words, any case, a
plural allowed, spaces or hyphens between them; `cat:` a category or archive and
`author:` a name as written; `-` leaves out the papers with the phrase after it
(to the next `-`, AND or the end), read the same way; AND needs both sides.

    python bench/relevance.py [--part tuning|held-out|all] [--dir tests/relevance/v2]
    python bench/relevance.py --errors   (the engine's errors, on the tuning part only)
    python bench/relevance.py --v1 [--papers PATH] [--judgements PATH]

Prints, per part (tuning, held-out, both together), precision, recall and F1 per
interest for the engine and the baseline, then micro and macro averages; the last
line is one JSON object. An interest with no relevant paper in a part that matches
none there scores 1 and is left out of macro averages. Tuning is done on the tuning
part only: `--part tuning` computes nothing on the held-out papers.

Set v1 (`--v1`): tests/relevance/papers.json and judgements.json, interests with
papers judged relevant, not relevant or tricky; unjudged papers are ignored.
"""

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RELEVANCE_DIR = ROOT / "tests" / "relevance"
V2_DIR = RELEVANCE_DIR / "v2"
PARTS = ("tuning", "held-out")

# match(interest, papers) -> ids of the papers returned for that interest.
Match = Callable[[str, Sequence[Mapping]], Iterable[str]]


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1}


# --- Set v1 -------------------------------------------------------------------------


def labels(judgement: Mapping) -> dict[str, bool]:
    """Map each judged paper id to True (relevant) or False, for one v1 interest."""
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


def _counts(judged: Mapping[str, bool], predicted: set[str]) -> dict:
    """Counts and P/R/F1 of one interest. One with nothing relevant that matches nothing
    is right throughout: 1, 1, 1, marked "empty" (macro averages leave it out)."""
    tp = sum(1 for pid, rel in judged.items() if rel and pid in predicted)
    fp = sum(1 for pid, rel in judged.items() if not rel and pid in predicted)
    fn = sum(1 for pid, rel in judged.items() if rel and pid not in predicted)
    tn = len(judged) - tp - fp - fn
    empty = not (tp or fp or fn)
    figures = {"precision": 1.0, "recall": 1.0, "f1": 1.0} if empty else _prf(tp, fp, fn)
    return {**figures, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "empty": empty}


def _summary(per_interest: Mapping[str, Mapping]) -> dict:
    tp = sum(row["tp"] for row in per_interest.values())
    fp = sum(row["fp"] for row in per_interest.values())
    fn = sum(row["fn"] for row in per_interest.values())
    rows = [row for row in per_interest.values() if not row["empty"]]
    macro = {
        key: _ratio(sum(row[key] for row in rows), len(rows))
        for key in ("precision", "recall", "f1")
    }
    return {
        "interests": len(per_interest),
        **_prf(tp, fp, fn),
        "macro": macro,
        "per_interest": dict(per_interest),
    }


def score(judgements: Sequence[Mapping], papers: Sequence[Mapping], match: Match) -> dict:
    """Score `match` against v1 judgements; pure, no engine import.

    Returns {"interests", "precision", "recall", "f1", "macro", "per_interest"}, where
    per_interest maps each interest to its precision, recall, f1 and counts.
    """
    known = {paper["id"] for paper in papers}
    per_interest: dict[str, dict] = {}
    for judgement in judgements:
        interest = judgement["interest"]
        judged = labels(judgement)
        missing = sorted(set(judged) - known)
        if missing:
            raise ValueError(f"{interest!r} judges papers not in the paper set: {missing}")
        per_interest[interest] = _counts(judged, set(match(interest, papers)))
    return _summary(per_interest)


# --- Set v2 -------------------------------------------------------------------------


def read_interests(path: Path) -> list[str]:
    """The interests between the markers of interests.md, in order."""
    text = path.read_text(encoding="utf-8")
    inside = text.split("<!-- interests -->", 1)[1].split("<!-- /interests -->", 1)[0]
    return [line.strip() for line in inside.splitlines() if line.strip()]


def _ids(entries: Iterable) -> list[str]:
    """Paper ids of a judgement's list: plain ids or objects with an "id"."""
    return [entry if isinstance(entry, str) else entry["id"] for entry in entries]


def read_judgements(directory: Path, interests: Sequence[str]) -> dict[str, dict]:
    """{interest: {"relevant": set of ids, "borderline": set of ids}} for every
    judgement file that has arrived (its "interest" names one of `interests`)."""
    found: dict[str, dict] = {}
    for path in sorted((directory / "judgements").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        interest = data.get("interest")
        if interest not in interests:
            raise ValueError(f"{path.name}: {interest!r} is not an interest of interests.md")
        if interest in found:
            raise ValueError(f"{path.name}: {interest!r} is judged twice")
        relevant = set(_ids(data.get("relevant", ())))
        borderline = set(_ids(data.get("borderline", ())))
        both = relevant & borderline
        if both:
            raise ValueError(f"{path.name}: relevant and borderline both: {sorted(both)}")
        why = {trap["id"]: trap.get("why", "") for trap in data.get("traps", ())}
        found[interest] = {"relevant": relevant, "borderline": borderline, "why": why}
    return found


def load_v2(directory: Path = V2_DIR) -> tuple[list[str], list[dict], dict[str, dict]]:
    interests = read_interests(directory / "interests.md")
    papers = json.loads((directory / "papers.json").read_text(encoding="utf-8"))
    judgements = read_judgements(directory, interests)
    known = {paper["id"] for paper in papers}
    for interest, judged in judgements.items():
        missing = sorted((judged["relevant"] | judged["borderline"]) - known)
        if missing:
            raise ValueError(f"{interest!r} judges papers not in papers.json: {missing}")
    return interests, papers, judgements


def score_v2(
    judgements: Mapping[str, Mapping],
    papers: Sequence[Mapping],
    match: Match,
    part: str | None = None,
) -> dict:
    """Score `match` on the papers of one part ("tuning", "held-out"; None: all).

    Each interest runs over the papers of that part only, so a part's figures say
    nothing of the other's papers."""
    chosen = [paper for paper in papers if part is None or paper["part"] == part]
    ids = [paper["id"] for paper in chosen]
    per_interest: dict[str, dict] = {}
    for interest, judged in judgements.items():
        labelled = {
            pid: pid in judged["relevant"] for pid in ids if pid not in judged["borderline"]
        }
        per_interest[interest] = _counts(labelled, set(match(interest, chosen)))
    return _summary(per_interest)


# --- The matchers -------------------------------------------------------------------


def document(paper: Mapping):
    """A judged paper (a JSON record of the set) as the engine's Document."""
    from digest.matching import Document

    return Document(
        id=paper["id"],
        title=paper["title"],
        abstract=paper.get("abstract", ""),
        authors=tuple(paper.get("authors", ())),
        categories=tuple(paper.get("categories", ())),
        upvotes=paper.get("upvotes", 0),
    )


def engine_match() -> Match:
    """A Match that runs digest.matching.match_papers for one interest over the papers."""
    from digest.matching import match_papers

    cache: dict[tuple[str, ...], list] = {}

    def match(interest: str, papers: Sequence[Mapping]) -> list[str]:
        key = tuple(paper["id"] for paper in papers)
        if key not in cache:
            cache[key] = [document(paper) for paper in papers]
        return [result.document_id for result in match_papers([interest], cache[key])]

    return match


def _word(word: str) -> str:
    """A regular expression for one word, whole, with or without a plural ending."""
    base = word.lower()
    if base.endswith("ies") and len(base) > 4:
        return re.escape(base[:-3]) + r"(?:y|ies)"
    if base.endswith("es") and base[-3:-2] in ("s", "x", "z", "h") and len(base) > 4:
        base = base[:-2]
    elif base.endswith("s") and not base.endswith("ss") and len(base) > 3:
        base = base[:-1]
    if base.endswith("y"):
        return re.escape(base[:-1]) + r"(?:y|ies)"
    return re.escape(base) + r"(?:s|es)?"


def baseline_phrase(text: str) -> re.Pattern[str]:
    """The words of `text` in order, whole, any case, plurals allowed, separated by
    spaces or hyphens."""
    words = re.findall(r"[^\W_]+", text)
    body = r"[\s\-]+".join(_word(word) for word in words)
    return re.compile(r"(?<![^\W_])" + body + r"(?![^\W_])", re.IGNORECASE)


def _baseline_clause(text: str) -> Callable[[Mapping], bool]:
    text = text.strip()
    if text.startswith("cat:"):
        wanted = text[4:].strip('"').lower()
        return lambda paper: any(
            c.lower() == wanted or c.lower().split(".")[0] == wanted
            for c in paper.get("categories", ())
        )
    if text.startswith("author:"):
        name = text[7:].strip('"').lower()
        return lambda paper: any(a.lower() == name for a in paper.get("authors", ()))
    pattern = baseline_phrase(text.replace('"', " "))
    return lambda paper: bool(
        pattern.search(paper["title"]) or pattern.search(paper.get("abstract", ""))
    )


def baseline_query(interest: str) -> Callable[[Mapping], bool]:
    """A paper -> bool for one interest, as the word-boundary baseline reads it."""
    required, excluded = [], []
    for side in re.split(r"\s+AND\s+", interest):
        parts = re.split(r"(?:^|\s)-(?=\S)", side)
        if parts[0].strip():
            required.append(_baseline_clause(parts[0]))
        excluded += [_baseline_clause(part) for part in parts[1:] if part.strip()]
    return lambda paper: all(c(paper) for c in required) and not any(c(paper) for c in excluded)


def baseline_match() -> Match:
    def match(interest: str, papers: Sequence[Mapping]) -> list[str]:
        wanted = baseline_query(interest)
        return [paper["id"] for paper in papers if wanted(paper)]

    return match


# --- Printing -----------------------------------------------------------------------


def _print_v1(result: dict, papers: int) -> None:
    width = max((len(interest) for interest in result["per_interest"]), default=8)
    print(f"{'interest':<{width}}  precision  recall     f1  tp fp fn tn")
    for interest, row in result["per_interest"].items():
        print(
            f"{interest:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  "
            f"{row['f1']:5.3f}  {row['tp']:2} {row['fp']:2} {row['fn']:2} {row['tn']:2}"
        )
    print(
        f"{'micro-average':<{width}}  {result['precision']:9.3f}  {result['recall']:6.3f}  "
        f"{result['f1']:5.3f}  ({papers} papers, {result['interests']} interests)"
    )


def _cells(row: Mapping) -> str:
    return f"{row['precision']:5.3f} {row['recall']:5.3f} {row['f1']:5.3f}"


def _print_part(name: str, engine: dict, baseline: dict, papers: int) -> None:
    width = max((len(interest) for interest in engine["per_interest"]), default=8)
    print(f"\n== {name} ({papers} papers, {engine['interests']} interests judged)")
    print(f"{'interest':<{width}}  engine P     R     F1    tp  fp  fn | baseline P  R     F1")
    for interest, row in engine["per_interest"].items():
        other = baseline["per_interest"][interest]
        print(
            f"{interest:<{width}}  {_cells(row)}  {row['tp']:3} {row['fp']:3} {row['fn']:3}"
            f" |   {_cells(other)}{'  (nothing relevant)' if row['empty'] else ''}"
        )
    for label, key in (("micro", None), ("macro", "macro")):
        mine = engine if key is None else engine[key]
        theirs = baseline if key is None else baseline[key]
        print(f"{label + '-average':<{width}}  {_cells(mine)}  {'':11} |   {_cells(theirs)}")


def print_errors(
    judgements: Mapping[str, Mapping], papers: Sequence[Mapping], match: Match
) -> None:
    """The engine's wrong matches and misses per interest, on the tuning part only (the
    held-out part's papers and labels are for the final figures, never looked at)."""
    tuning = [paper for paper in papers if paper["part"] == "tuning"]
    by_id = {paper["id"]: paper for paper in tuning}
    for interest, judged in judgements.items():
        predicted = set(match(interest, tuning))
        wrong = sorted(pid for pid in predicted - judged["relevant"] - judged["borderline"])
        missed = sorted(pid for pid in judged["relevant"] - predicted if pid in by_id)
        if not (wrong or missed):
            continue
        print(f"\n## {interest}")
        for label, ids in (("wrong", wrong), ("missed", missed)):
            for pid in ids:
                why = judged["why"].get(pid, "")
                print(f"  {label:6} {pid} {by_id[pid]['title'][:110]}")
                if why:
                    print(f"         judge: {why[:220]}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v1", action="store_true", help="set v1 (tests/relevance/*.json)")
    parser.add_argument("--papers", type=Path, default=RELEVANCE_DIR / "papers.json")
    parser.add_argument("--judgements", type=Path, default=RELEVANCE_DIR / "judgements.json")
    parser.add_argument("--dir", type=Path, default=V2_DIR, help="set v2's folder")
    parser.add_argument(
        "--part",
        choices=("tuning", "held-out", "all"),
        default="all",
        help="which part to score (all: each part, then both together)",
    )
    parser.add_argument(
        "--errors", action="store_true", help="list wrong matches and misses (tuning part only)"
    )
    args = parser.parse_args(argv)

    if args.v1:
        papers = json.loads(args.papers.read_text(encoding="utf-8"))
        judgements = json.loads(args.judgements.read_text(encoding="utf-8"))
        result = score(judgements, papers, engine_match())
        _print_v1(result, len(papers))
        print(json.dumps(result))
        return

    _, papers, judgements = load_v2(args.dir)
    if args.errors:
        print_errors(judgements, papers, engine_match())
        return
    parts = [*PARTS, None] if args.part == "all" else [args.part]
    engine, baseline = engine_match(), baseline_match()
    out: dict[str, dict] = {}
    for part in parts:
        name = part or "whole"
        count = sum(1 for paper in papers if part is None or paper["part"] == part)
        mine = score_v2(judgements, papers, engine, part)
        theirs = score_v2(judgements, papers, baseline, part)
        _print_part(name, mine, theirs, count)
        out[name] = {"engine": mine, "baseline": theirs}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
