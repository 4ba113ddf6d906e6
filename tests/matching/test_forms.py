"""Derivational word forms: one family for the words one derives from another, in
interests and exclusions alike; never for words that only look alike."""

import pytest

from digest.matching import Document, match_papers
from digest.matching.analysis import stem
from digest.matching.forms import family


def found(interest: str, *documents: Document) -> list[str]:
    return sorted(result.document_id for result in match_papers([interest], documents))


@pytest.mark.parametrize(
    "words",
    [
        ("privacy", "private", "privately"),
        ("differential", "differentially"),
        ("molecule", "molecules", "molecular"),
        ("transport", "transportation"),
        ("prediction", "predictor", "predictive", "predicting"),
        ("detection", "detector", "detect"),
        ("correction", "correcting"),
        ("superconductivity", "superconductor", "superconducting"),
        ("optimization", "optimize", "optimizer"),
        ("generation", "generator", "generated"),
        ("topology", "topological"),
        ("causal", "causality"),
        ("nucleus", "nuclei", "nuclear"),
        ("exoplanet", "exoplanetary"),
        ("robot", "robotic", "robotics"),
        ("code", "coding"),
    ],
)
def test_the_words_of_one_family_have_one_key(words):
    assert len({family(stem(word)) for word in words}) == 1, words


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("foundation", "found"),
        ("publication", "public"),
        ("specification", "specific"),
        ("station", "state"),
        ("objective", "object"),
        ("respectively", "respect"),
        ("modulation", "module"),
        ("population", "popular"),
        ("regulation", "regular"),
        ("general", "generation"),
        ("activation", "active"),
        ("production", "product"),
        ("reactor", "reaction"),
        ("operator", "operation"),
        ("metallicity", "metallic"),
        ("microscopic", "microscopy"),
        ("formation", "format"),
        ("relativity", "relation"),
    ],
)
def test_words_that_only_look_alike_stay_apart(first, second):
    assert family(stem(first)) != family(stem(second))


def test_an_interest_finds_the_other_forms_of_its_words():
    documents = [
        Document("dp", "Differentially private stochastic gradient descent"),
        Document("ot", "Optimal transportation between point clouds"),
        Document("qec", "Quantum error-correcting codes on a lattice"),
        Document("other", "Private equity and public transport"),
    ]
    assert found("differential privacy", *documents) == ["dp"]
    assert found("optimal transport", *documents) == ["ot"]
    # The long form of a known acronym, in another form: quantum error correction.
    assert found("QEC", *documents) == ["qec"]


def test_an_exclusion_excludes_the_other_forms_of_its_words_too():
    documents = [
        Document("molecular", "Graph neural networks for molecular property prediction"),
        Document("social", "Graph neural networks for social networks"),
    ]
    assert found("graph neural networks -molecules", *documents) == ["social"]
