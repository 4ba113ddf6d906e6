"""Spelling corrections for interests that find nothing: from the words of the papers
at hand and of the thesaurus, only where the interest looks for words."""

import pytest

from digest.matching import default_concepts
from digest.matching.spelling import Spelling, corrected, edit_distance

PAPERS = [
    ["Performance anomaly detection in athletics", "Anomaly scores for runners."],
    ["Graph neural networks for molecules", "We train graph networks on molecules."],
    ["Transformers for weather", "Transformers and diffusion models forecast rain."],
]


@pytest.fixture(scope="module")
def spelling() -> Spelling:
    return Spelling.of(PAPERS, default_concepts())


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("anomally detection", "anomaly detection"),  # a letter too many
        ("reinforcment learning", "reinforcement learning"),  # the thesaurus's word
        ("grpah neural networks", "graph neural networks"),  # two letters swapped
        ("Difusion Modles", "Diffusion Models"),  # two words; capitals and plural kept
        ("transfromers", "transformers"),  # a swap in a plural: two edits from the word
        ("graph nueral networks -molecles", "graph neural networks -molecles"),
    ],
)
def test_a_misspelt_interest_gets_the_closest_known_spelling(spelling, typed, meant):
    assert corrected(typed, spelling)[0] == meant


@pytest.mark.parametrize(
    "typed",
    [
        "anomaly detection",  # nothing wrong
        "modelling",  # an inflection of a known word ("models") is known
        "the",
        "RLHF",  # acronyms and short words have too many neighbours
        "GANz",
        "xylophonics",  # nothing close
        'author:"Grpah" cat:cs.LG',  # fields are not words to look for
        "x86",
    ],
)
def test_known_short_or_unlike_words_are_left_alone(spelling, typed):
    assert corrected(typed, spelling) is None


def test_a_word_more_papers_use_is_preferred_at_the_same_distance():
    spelling = Spelling({"molecule": 1, "molecula": 9})

    assert spelling.closest("moleculx") == "molecula"
    assert corrected("moleculx", spelling) == ("molecula", ("molecula",))


def test_the_edit_distance_counts_swaps_as_one_and_stops_past_its_limit():
    assert edit_distance("grpah", "graph", 2) == 1
    assert edit_distance("kitten", "sitting", 3) == 3
    assert edit_distance("kitten", "sitting", 1) == 2  # limit + 1: no need to know more
    assert edit_distance("abc", "abcdef", 2) == 3
