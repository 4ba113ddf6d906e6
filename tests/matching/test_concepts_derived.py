"""The derived concept graph (digest/matching/concepts_derived.toml, written by
digest/matching/vocabulary/build.py): it loads, every entry names its source, it
never contradicts the reviewed concepts.toml, and a few spot checks of the graph
through the engine's public API."""

import re
import tomllib
from pathlib import Path

import pytest

from digest.matching import Document, match_papers
from digest.matching.analysis import stems_of
from digest.matching.concepts import DATA, DERIVED, build, default_concepts, with_derived
from digest.matching.query import MAX_ALTERNATIVES

REVIEW = Path(DERIVED).parent / "vocabulary" / "review.toml"
SOURCE_ID = re.compile(
    r"^(uat:\d+|physh:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|mesh:[A-Z]\d\d(\.\d{3})*|curated)$"
)


@pytest.fixture(scope="module")
def reviewed() -> dict:
    return tomllib.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def derived() -> dict:
    return tomllib.loads(DERIVED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def merged(reviewed, derived) -> dict:
    return with_derived(reviewed, derived)


def found(interest: str, *titles: str) -> list[str]:
    documents = [Document(f"d{i}", title) for i, title in enumerate(titles)]
    return sorted(result.document_id for result in match_papers([interest], documents))


# --- It loads, with a source for everything ----------------------------------


def test_the_derived_file_loads_into_the_default_concepts(derived):
    assert len(derived["concept"]) > 1000
    concepts = default_concepts()
    kernel = concepts.canonical(stems_of("kernel methods"))
    assert concepts.canonical(stems_of("gaussian process")) in concepts.narrower[kernel]


def test_every_source_is_described_with_its_licence(derived):
    for name in ("uat", "physh", "mesh", "curated"):
        assert derived["sources"][name]["licence"]
    for name in ("uat", "physh", "mesh"):
        assert re.fullmatch(r"[0-9a-f]{40}", derived["sources"][name]["snapshot"])
        assert re.fullmatch(r"[0-9a-f]{64}", derived["sources"][name]["sha256"])


def test_every_entry_names_its_source(derived):
    for label, concept in derived["concept"].items():
        assert concept["source"], label
        assert concept.get("synonyms") or concept.get("narrower"), label
        for relation in ("synonyms", "narrower"):
            for phrase, source in concept.get(relation, {}).items():
                assert SOURCE_ID.match(source), (label, relation, phrase, source)
    for acronym, entry in derived["acronyms"].items():
        assert SOURCE_ID.match(entry["source"]), acronym


def test_phrases_follow_the_spelling_rules(derived):
    phrases = [p for c in derived["concept"].values() for t in ("synonyms", "narrower")
               for p in c.get(t, {})]  # fmt: skip
    for phrase in [*derived["concept"], *phrases]:
        assert phrase == phrase.lower() and "-" not in phrase and "  " not in phrase, phrase


# --- It never contradicts concepts.toml --------------------------------------


def test_derived_acronyms_are_new_and_have_one_sense(reviewed, derived):
    omitted = set(tomllib.loads(REVIEW.read_text(encoding="utf-8"))["global"]["omitted_acronyms"])
    long_forms = {stems_of(f) for forms in reviewed["acronyms"].values() for f in forms}
    for acronym, entry in derived["acronyms"].items():
        assert acronym not in reviewed["acronyms"] and acronym not in omitted, acronym
        for form in entry["long_forms"]:
            assert stems_of(form) not in long_forms, form


def test_reviewed_groups_and_narrower_lists_stay_whole_and_first(reviewed, merged):
    concepts = build(merged)
    for name, group in reviewed["synonyms"].items():
        members = [concepts.canonical(stems_of(p)) for p in group]
        merged_groups = {concepts.synonyms[m] for m in members}
        assert len(merged_groups) == 1, name  # not split between two groups
        assert set(members) <= set(next(iter(merged_groups))), name
    for broad, topics in reviewed["narrower"].items():
        assert merged["narrower"][broad][: len(topics)] == topics, broad


def test_no_derived_synonym_joins_another_reviewed_group_or_acronym(reviewed, derived):
    concepts = build(reviewed)
    for label, concept in derived["concept"].items():
        key = concepts.canonical(stems_of(label))
        own = concepts.synonyms.get(key, (key,))
        for phrase in concept.get("synonyms", {}):
            other = concepts.canonical(stems_of(phrase))
            assert other in own or other not in concepts.synonyms, (label, phrase)
            single_acronym = len(other) == 1 and other[0].startswith("#")
            assert not single_acronym or other == key, (label, phrase)
            assert other not in concepts.narrower.get(key, ()), (label, phrase)


def test_no_narrower_topic_is_its_concept_or_a_synonym_of_it(merged):
    concepts = build(merged)
    for broad, topics in concepts.narrower.items():
        group = concepts.synonyms.get(broad, (broad,))
        for topic in topics:
            assert topic not in group, (broad, topic)


def test_an_interest_expands_to_no_more_phrases_than_the_engine_looks_for(merged):
    concepts = build(merged)
    for broad in concepts.narrower:
        group = concepts.synonyms.get(broad, (broad,))
        narrower = {t for member in group for t in concepts.narrower.get(member, ())}
        assert len(set(group) | narrower) <= MAX_ALTERNATIVES, broad


# --- Spot checks of the graph, through match_papers ----------------------------


@pytest.mark.parametrize(
    ("interest", "matching", "not_matching"),
    [
        # curated: named methods and models
        (
            "kernel methods",
            ["Gaussian process regression with noisy inputs", "Quantum kernels for classification",
             "Support vector machines revisited", "Kernel ridge regression at scale"],
            ["Kernel density estimation of galaxy counts", "The Linux kernel scheduler"],
        ),
        (
            "vision transformers",
            ["Swin Transformer: hierarchical windows", "DeiT III: revenge of the ViT",
             "Fine-tuning DINOv2 backbones"],
            ["Transformers for power grids", "Vision-based grasping",
             "Transformer-based epitope selection in swine"],
        ),
        (
            "optimal transport",
            ["Bounds on the Wasserstein distance", "Sinkhorn iterations on GPUs",
             "Schrödinger bridges for generative modelling"],
            ["Optimal control of transport networks"],
        ),
        (
            "protein structure prediction",
            ["AlphaFold2 confidence and disorder", "RoseTTAFold for complexes",
             "Protein secondary structure prediction with CNNs"],
            ["Protein expression in yeast"],
        ),
        (
            "LLM agents",
            ["Coding agents on real repositories", "Multi-agent LLM systems that debate",
             "An agentic framework for athlete profiling", "When search agents should ask"],
            ["Agents in a market simulation",
             "Multi-agent reinforcement learning for traffic lights"],
        ),
        (
            "robot manipulation",
            ["SA-VLA: a tokenizer for vision-language-action models",
             "Humanoid loco-manipulation in reconstructed scenes", "Learning cloth folding"],
            ["Vision-language models for captions", "Manipulation of public opinion"],
        ),
        ("quantum machine learning", ["Hybrid quantum-classical neural networks for phases"],
         ["Classical neural networks for quantum phases"]),
        ("optimal transport", ["Wasserstein GAN"], ["A GAN for faces"]),
        ("time series forecasting", ["A time series foundation model for macroeconomics"],
         ["Foundation models for vision"]),
        ("code generation", ["Automated program repair with LLMs"], ["Repair of bridges"]),
        ("MMD", ["A maximum mean discrepancy test"], ["Maximum likelihood discrepancies"]),
        # UAT (astronomy): a narrower concept and an alternative label
        ("exoplanets", ["A census of free-floating planets", "Habitable planets around M dwarfs"],
         ["Formation of planets in the Solar System"]),
        ("quasars", ["Quasi-stellar objects at z > 6"], ["Stellar objects in the halo"]),
        ("cosmic inflation", ["Cosmological inflation and reheating"],
         ["Gravitational waves from binary neutron stars"]),
        # PhySH (physics): narrower concepts and an alternative label
        ("superconductivity", ["Andreev reflection at a graphene interface",
                               "Josephson effect in twisted bilayers"],
         ["Coherence length of a laser"]),
        ("topological phases of matter", ["Symmetry protected topological states in 1D"],
         ["Topological data analysis of images"]),
        ("BKT transition", ["The Berezinskii-Kosterlitz-Thouless transition in films"], []),
        # MeSH: narrower concepts
        ("neurodegenerative diseases", ["Imaging Lewy body disease", "Prion diseases in deer"],
         ["Disease spread on networks"]),
    ],
)  # fmt: skip
def test_the_graph_finds_narrower_topics_and_synonyms(interest, matching, not_matching):
    titles = [*matching, *not_matching]
    expected = [f"d{i}" for i in range(len(matching))]
    assert found(interest, *titles) == expected


def test_narrower_is_one_way():
    # Swin is a vision transformer; "Swin" does not find every vision transformer.
    assert found("Swin Transformer", "Vision transformers for segmentation") == []
    assert found("hot jupiters", "A survey of exoplanets") == []
