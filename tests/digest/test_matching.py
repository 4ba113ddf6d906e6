"""The first matching engine: whole words, any case, hyphen or space between words."""

import pytest

from digest.matching import Document, InterestSyntaxError, match_papers, validate_interest


def ids(interests, documents):
    return [result.document_id for result in match_papers(interests, documents)]


def test_it_matches_whole_words_only():
    documents = [
        Document("url", "Parsing URL structures"),
        Document("organ", "Organ segmentation in CT"),
        Document("rl", "Offline RL for robots"),
        Document("gan", "A GAN for faces"),
    ]
    assert ids(["RL"], documents) == ["rl"]
    assert ids(["GAN"], documents) == ["gan"]


def test_it_ignores_case_and_accepts_hyphen_or_space_between_words():
    documents = [
        Document("hyphen", "Sparse Mixture-of-Experts at scale"),
        Document("space", "", "We study mixture of experts routing."),
        Document("other", "Experts mixing cocktails"),
    ]
    assert sorted(ids(["mixture of experts"], documents)) == ["hyphen", "space"]


def test_title_matches_rank_above_abstract_matches_and_more_interests_above_fewer():
    documents = [
        Document("abstract-only", "Something else", "diffusion models everywhere"),
        Document("title", "Diffusion models for audio"),
        Document("both", "Diffusion models meet transformers", "transformers"),
    ]
    results = match_papers(["diffusion models", "transformers"], documents)
    assert [r.document_id for r in results] == ["both", "title", "abstract-only"]
    assert results[0].reasons[0].fields == ("title",)
    assert results[0].reasons[0].matched == ("diffusion models",)


def test_upvotes_break_ties():
    documents = [
        Document("quiet", "Graph transformers"),
        Document("loud", "Graph transformers", upvotes=40),
    ]
    assert ids(["graph transformers"], documents) == ["loud", "quiet"]


def test_no_interest_matches_nothing():
    assert match_papers([], [Document("a", "Anything")]) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "An interest cannot be empty."),
        ("x" * 201, "at most 200 characters (this one has 201)"),
        ("-- ?!", "has no letters or digits"),
    ],
)
def test_a_bad_interest_is_refused_with_a_message_saying_why(text, message):
    with pytest.raises(InterestSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_interest(text)


def test_an_interest_is_tidied():
    assert validate_interest("  diffusion   models ") == "diffusion models"
