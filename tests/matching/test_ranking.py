"""Ranking: title above abstract, more interests above fewer, rarer above common,
upvotes as the tie-breaker; each result says why."""

from digest.matching import Document, match_papers


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
        Document("two-in-abstract", "Other", "graph neural networks and protein folding"),
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
