"""Ranking: title above abstract, more concepts above fewer (interests of one concept
count once), rarer above common, upvotes as the tie-breaker; each result says why."""

import math

import pytest

from digest.matching import Document, default_concepts, match_papers
from digest.matching.engine import same_concept
from digest.matching.query import parse


def ids(interests, documents, **options):
    return [result.document_id for result in match_papers(interests, documents, **options)]


def test_title_matches_rank_above_abstract_matches_and_more_interests_above_fewer():
    documents = [
        Document("abstract-only", "Something else", "diffusion models everywhere"),
        Document("title", "Diffusion models for audio"),
        Document("both", "Diffusion models meet transformers", "transformers"),
    ]
    results = match_papers(["diffusion models", "transformers"], documents)

    assert [r.document_id for r in results] == ["both", "title", "abstract-only"]
    assert results[0].reasons[0].fields == ("title",)
    assert results[0].reasons[0].matched == ("Diffusion models",)
    assert results[0].reasons[1].fields == ("title", "abstract")


def test_a_title_match_beats_two_abstract_matches():
    documents = [
        Document(
            "two-in-abstract", "Other", "We train graph neural networks. We study protein folding."
        ),
        Document("one-in-title", "Protein folding, revisited"),
    ]
    assert ids(["graph neural networks", "protein folding"], documents) == [
        "one-in-title",
        "two-in-abstract",
    ]


def test_a_rarer_interest_ranks_above_a_common_one():
    common = [Document(f"common{i}", f"Transformers study {i}") for i in range(5)]
    rare = Document("rare", "Spiking neural networks")
    results = match_papers(["transformers", "spiking neural networks"], [*common, rare])

    assert results[0].document_id == "rare"
    assert results[0].score > results[1].score


def test_upvotes_break_ties_then_the_id():
    documents = [
        Document("b-quiet", "Graph transformers"),
        Document("loud", "Graph transformers", upvotes=40),
        Document("a-quiet", "Graph transformers"),
    ]
    assert ids(["graph transformers"], documents) == ["loud", "a-quiet", "b-quiet"]


def test_the_limit_keeps_the_best():
    documents = [Document(f"p{i}", "Graph transformers", upvotes=i) for i in range(10)]
    assert ids(["graph transformers"], documents, limit=3) == ["p9", "p8", "p7"]


def test_a_repeated_or_unusable_interest_counts_once_or_not_at_all():
    documents = [Document("a", "Graph transformers")]
    results = match_papers(["graph transformers", "graph  transformers", '"broken'], documents)

    assert [reason.interest for reason in results[0].reasons] == ["graph transformers"]


def test_no_interest_matches_nothing():
    assert match_papers([], [Document("a", "Anything")]) == []


def test_interests_of_one_concept_count_once_for_a_paper():
    """ "language models" includes LLMs, and "LLMs" is "large language models": a paper
    saying LLMs matches three interests but one concept, so a paper matching one
    rarer interest is not pushed below it."""
    llm_papers = [Document(f"llm{i}", f"LLMs for task {i}") for i in range(3)]
    anomaly = Document("anomaly", "Anomaly detection in logs")
    interests = ["language models", "LLMs", "large language models", "anomaly detection"]

    results = match_papers(interests, [*llm_papers, anomaly])

    assert [r.document_id for r in results] == ["anomaly", "llm0", "llm1", "llm2"]
    first_llm = results[1]
    assert [reason.interest for reason in first_llm.reasons] == interests[:3]
    # The first interest of the concept counts, with its weight, doubled in the title.
    weight = 1 + math.log(4 / 3)
    assert first_llm.score == pytest.approx(2 * weight, abs=1e-3)


def test_interests_of_different_concepts_still_add_up():
    documents = [
        Document("both", "Diffusion models meet transformers"),
        Document("one", "Diffusion models for audio"),
    ]
    results = match_papers(["diffusion models", "transformers", "LLM"], documents)

    assert [r.document_id for r in results] == ["both", "one"]


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("LLMs", "large language models", True),  # an acronym and its long form
        ("language models", "LLM", True),  # a narrower topic of the first
        ("power consumption", "energy efficiency", True),  # thesaurus synonyms
        ("LLM -survey", "LLMs", True),  # exclusions aside
        ("diffusion models", "transformers", False),
        ("LLM AND protein folding", "LLM", False),  # more than one concept
        ('"LLMs"', "LLM", False),  # as written: no concept
        ("cat:cs.LG", "machine learning", False),
    ],
)
def test_which_interests_are_one_concept(first, second, same):
    concepts = default_concepts()

    assert same_concept(parse(first, concepts), parse(second, concepts)) is same
    assert same_concept(parse(second, concepts), parse(first, concepts)) is same
