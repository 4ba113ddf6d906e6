"""The engine on real papers judged by hand (tests/relevance/): precision and recall
must not fall below what it reaches today, so a regression fails here. Set v2's
floors are on its tuning part only: its held-out part is reported by
bench/relevance.py, never floored or tuned on."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELEVANCE = ROOT / "tests" / "relevance"

# Reached on 2026-11-29 with 97 papers and 19 interests (python bench/relevance.py:
# precision 0.912, recall 0.933); raise them when the engine improves. Recall 0.92
# since 2026-12-02: two pairs set v2's reading undoes (DeiT's "distillation through
# attention" is not about attention; "better than … sparse attention" is a baseline).
PRECISION_FLOOR = 0.91
RECALL_FLOOR = 0.92
INTEREST_F1_FLOOR = 0.66


def _bench():
    spec = importlib.util.spec_from_file_location("relevance", ROOT / "bench" / "relevance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result() -> dict:
    bench = _bench()
    papers = json.loads((RELEVANCE / "papers.json").read_text(encoding="utf-8"))
    judgements = json.loads((RELEVANCE / "judgements.json").read_text(encoding="utf-8"))
    return bench.score(judgements, papers, bench.engine_match())


def test_overall_precision_and_recall_stay_above_their_floors(result):
    assert result["precision"] >= PRECISION_FLOOR
    assert result["recall"] >= RECALL_FLOOR


def test_no_interest_falls_below_its_floor(result):
    weak = {k: v["f1"] for k, v in result["per_interest"].items() if v["f1"] < INTEREST_F1_FLOOR}
    assert weak == {}


def test_the_set_is_big_enough_to_mean_something():
    judgements = json.loads((RELEVANCE / "judgements.json").read_text(encoding="utf-8"))
    bench = _bench()

    assert len(judgements) >= 10
    for judgement in judgements:
        labels = bench.labels(judgement)
        assert sum(labels.values()) >= 3, judgement["interest"]
        assert sum(not relevant for relevant in labels.values()) >= 3, judgement["interest"]


# Set v2's tuning part only (417 papers, 35 interests; the held-out part has no
# floor). Not today's score (precision 0.955, recall 0.876 on 2026-12-02, python
# bench/relevance.py --part tuning) but what issue 13 asks of precision, and a recall
# a regression would have to cross (0.80 before the concept work of 2026-12-02).
V2_PRECISION_FLOOR = 0.90
V2_RECALL_FLOOR = 0.84


def _index_match():
    """bench/relevance.py's engine match through one PaperIndex (the same answers as
    match_papers, the batch test says), so the whole part runs in a second."""
    from digest.matching import Document, PaperIndex

    indexes = {}

    def match(interest, papers):
        key = tuple(paper["id"] for paper in papers)
        if key not in indexes:
            indexes[key] = PaperIndex(
                Document(p["id"], p["title"], p.get("abstract", ""), tuple(p.get("authors", ())),
                         tuple(p.get("categories", ())))
                for p in papers
            )  # fmt: skip
        return [result.document_id for result in indexes[key].match([interest]).results]

    return match


@pytest.fixture(scope="module")
def tuning() -> dict:
    bench = _bench()
    _, papers, judgements = bench.load_v2()
    return bench.score_v2(judgements, papers, _index_match(), part="tuning")


def test_set_v2s_tuning_part_stays_above_its_floors(tuning):
    assert tuning["precision"] >= V2_PRECISION_FLOOR
    assert tuning["recall"] >= V2_RECALL_FLOOR
