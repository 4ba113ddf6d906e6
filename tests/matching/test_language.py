"""The interest language, one promise per test: what each way of writing finds, and
what it must not find."""

import pytest

from digest.matching import (
    Document,
    InterestSyntaxError,
    default_concepts,
    match_papers,
    validate_interest,
)
from digest.matching.query import parse, searched_spans


def found(interest: str, *documents: Document) -> list[str]:
    """The ids of the papers `interest` matches, sorted (ranking is tested elsewhere)."""
    return sorted(result.document_id for result in match_papers([interest], documents))


def titled(*titles: str) -> list[Document]:
    return [Document(f"d{i}", title) for i, title in enumerate(titles)]


@pytest.mark.parametrize(
    ("interest", "matching", "not_matching"),
    [
        # Whole words only.
        ("RL", ["Offline RL for robots"], ["Parsing URL structures", "A world model"]),
        ("GAN", ["A GAN for faces", "Training GANs stably"], ["Organ segmentation in CT"]),
        ("organ", ["Organ segmentation", "Organs at risk"], ["Organic chemistry", "A GAN"]),
        # Any case, any inflection.
        (
            "diffusion models",
            ["Diffusion Models for audio", "A diffusion model of speech", "diffusion modeling"],
            ["Models of heat", "Diffusion of innovations models"],
        ),
        ("graph neural network", ["Graph Neural Networks at scale"], ["Neural graph networks"]),
        ("training", ["Trained agents", "We train", "Training runs"], ["Strain gauges"]),
        # Hyphen, space or nothing between the words.
        (
            "mixture of experts",
            ["Sparse Mixture-of-Experts", "mixture of experts routing"],
            ["Experts mixing cocktails"],
        ),
        ("pre-training", ["Pretraining at scale", "pre training data"], ["Pre and post"]),
        ("pretraining", ["Pre-training at scale", "Pre-trained encoders"], ["Training"]),
        # Acronyms and long forms are one concept.
        (
            "LLM",
            ["LLMs as judges", "Large language models as judges", "large-language-model agents"],
            ["Language models for code", "Small models"],
        ),
        ("large language models", ["An LLM for law", "LLMs can reason"], ["Small language models"]),
        ("RLHF", ["Reinforcement learning from human feedback at scale"], ["Human feedback"]),
        ("mixture of experts", ["Routing in MoE layers"], ["Moe's tavern"]),
        ("LLM agents", ["Large language model agents", "LLM agents"], ["LLM evaluation"]),
        # A thesaurus for what people mean.
        (
            "power consumption",
            ["Energy-efficient inference", "Low-power accelerators", "Energy consumption of GPUs"],
            ["Power laws in graphs"],
        ),
    ],
)
def test_what_an_interest_finds_and_what_it_does_not(interest, matching, not_matching):
    documents = titled(*matching, *not_matching)

    assert found(interest, *documents) == [f"d{i}" for i in range(len(matching))]


def test_a_papers_own_acronym_definition_counts_for_that_paper():
    defines = Document(
        "defines",
        "Fast routing",
        "We propose Sparse Token Routing (STR). STR halves the cost of inference.",
    )
    only_acronym = Document("other", "STR is a unit", "No definition here.")

    assert found("sparse token routing", defines, only_acronym) == ["defines"]
    reason = match_papers(["sparse token routing"], [defines])[0].reasons[0]
    assert reason.matched == ("Sparse Token Routing", "STR")
    assert found("STR", defines, only_acronym) == ["defines", "other"]


def test_a_phrase_finds_its_first_word_hyphened_to_based_or_driven():
    # "LLM-based agents" are LLM agents; the words "based" and "driven" say nothing more.
    driven = Document("driven", "Market games", "We design LLM-driven agents that trade goods.")
    based = Document(
        "based", "Spectrograms", "We propose a diffusion-based generative model for audio."
    )
    apart = Document("apart", "Market games", "We design LLM tools; driven agents trade goods.")

    defined = Document(
        "defined", "Cooperation", "We align large language model (LLM)-based agents."
    )

    assert found("LLM agents", driven, based, apart, defined) == ["defined", "driven"]
    assert found("diffusion generative models", driven, based, apart) == ["based"]
    reason = match_papers(["LLM agents"], [driven])[0].reasons[0]
    assert reason.matched == ("LLM-driven agents",)


def test_a_known_acronym_defined_without_its_head_noun_is_that_concept():
    vla = Document(
        "vla",
        "Residual RL for VLA enhancement",
        "Vision-Language-Action (VLA) models generalize; we refine VLA actions.",
    )

    assert found("VLA", vla) == ["vla"]
    assert found("vision language action models", vla) == ["vla"]


def test_a_paper_that_defines_a_known_acronym_otherwise_is_not_that_concept():
    other_sense = Document(
        "graph", "Graph Attention Networks (GAN) for traffic", "Our GAN attends to neighbours."
    )
    usual = Document("usual", "A GAN for faces")

    assert found("GAN", other_sense, usual) == ["usual"]
    assert found("generative adversarial networks", other_sense, usual) == ["usual"]


def test_an_arxiv_category_name_finds_papers_in_that_category():
    galaxy = Document("galaxy", "Stellar streams", categories=("astro-ph.GA",))
    physics = Document("quantum", "Qubits", categories=("quant-ph", "cs.ET"))
    other = Document("other", "Sorting", categories=("cs.DS",))

    assert found("astrophysics", galaxy, physics, other) == ["galaxy"]
    assert found("quantum physics", galaxy, physics, other) == ["quantum"]


def test_a_quoted_phrase_is_matched_as_written():
    documents = [
        Document("exact", "In-context learning of rules"),
        Document("inflected", "In-context learners"),
        Document("spaced", "in context learning"),
    ]
    assert found('"in-context learning"', *documents) == ["exact", "spaced"]


def test_an_exclusion_removes_papers_that_also_match_it():
    documents = [
        Document("social", "Graph neural networks for social networks"),
        Document("chemistry", "Graph neural networks for molecules"),
        Document(
            "in-abstract", "Graph neural networks", "Applied to molecular graphs and molecules."
        ),
    ]
    assert found("graph neural networks -molecules", *documents) == ["social"]
    assert found('graph neural networks -"social networks"', *documents) == [
        "chemistry",
        "in-abstract",
    ]


def test_authors_match_by_surname_with_initials_and_accents_folded():
    lecun = Document("lecun", "Energy-based models", authors=("Yann LeCun", "Ann Other"))
    namesake = Document("namesake", "Something", authors=("Bob LeCun",))
    accents = Document("accents", "Bosons", authors=("Erwin Schrödinger",))

    assert found('author:"Yann LeCun"', lecun, namesake) == ["lecun"]
    assert found('author:"Y. LeCun"', lecun, namesake) == ["lecun"]
    assert found("author:LeCun", lecun, namesake) == ["lecun", "namesake"]
    assert found('author:"Erwin Schrodinger"', accents) == ["accents"]
    assert match_papers(['author:"Y. LeCun"'], [lecun])[0].reasons[0].matched == ("Yann LeCun",)


def test_categories_match_exactly_or_by_archive():
    lg = Document("lg", "A", categories=("cs.LG", "stat.ML"))
    hep = Document("hep", "B", categories=("hep-th",))
    astro = Document("astro", "C", categories=("astro-ph.CO",))

    assert found("cat:cs.LG", lg, hep, astro) == ["lg"]
    assert found("cat:stat", lg, hep, astro) == ["lg"]
    assert found("cat:hep", lg, hep, astro) == ["hep"]
    assert found("cat:astro-ph", lg, hep, astro) == ["astro"]
    assert found("cat:cs.CV", lg, hep, astro) == []


def test_and_needs_both_sides():
    documents = [
        Document("both", "Transformers for protein folding"),
        Document("one", "Transformers for text"),
    ]
    assert found("transformers AND protein folding", *documents) == ["both"]
    reason = match_papers(["transformers AND protein folding"], documents)[0].reasons[0]
    assert reason.matched == ("Transformers", "protein folding")


def test_punctuation_breaks_a_phrase():
    assert found("language models", Document("d", "Of language. Models of cities")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "An interest cannot be empty"),
        ("x" * 201, "at most 200 characters (this one has 201)"),
        ("-- ?!", "has no letters or digits"),
        ('"diffusion models', "This quote is never closed (at character 1"),
        ('transformers ""', "Empty quotes"),
        ("-molecules", "only excludes"),
        ("graphs - molecules", "A minus must be followed by what to exclude (at character 8"),
        ("AND graphs", "AND needs something to look for on both sides (at character 1"),
        ("graphs AND", "AND needs something to look for on both sides (at character 8"),
        ("graphs AND AND trees", "AND needs something to look for on both sides (at character 12"),
        ("graphs OR trees", "OR is not supported: put each alternative on its own line"),
        ("title:graphs", "Unknown field “title:”"),
        ("cat:cs/LG", "“cs/LG” is not an arXiv category"),
        ('author:"  "', "Empty quotes"),
    ],
)
def test_a_bad_interest_is_refused_with_what_is_wrong_and_where(text, message):
    with pytest.raises(InterestSyntaxError) as raised:
        validate_interest(text)
    assert message in str(raised.value)


def test_an_interest_is_tidied():
    assert validate_interest("  diffusion   models ") == "diffusion models"


def test_validating_again_gives_the_same_answer_and_a_bad_interest_is_refused_every_time():
    # The live preview validates the same lines at every keystroke (kept once valid).
    for _ in range(2):
        assert validate_interest("  graph   neural networks") == "graph neural networks"
        with pytest.raises(InterestSyntaxError, match="Unknown field"):
            validate_interest("title:graphs")


@pytest.mark.parametrize(
    "text",
    [
        "mixture-of-experts",
        "state-of-the-art",
        "COVID-19",
        "and",
        "question and answer",
        "x86",
        "author:LeCun",
        "cat:q-bio.NC",
        "GPT-4 -vision",
    ],
)
def test_ordinary_interests_are_accepted(text):
    assert validate_interest(text) == text


@pytest.mark.parametrize(
    ("text", "closest"),
    [
        ("cat:nonsense", "did you mean cat:econ.EM, cat:econ.GN or cat:nlin.PS?"),
        ("cat:cs.ML", "did you mean cat:stat.ML, "),  # the same subject in another archive
        ("cat:robotics", "did you mean cat:cs.RO, "),  # the category's name
        ("cat:astroph", "did you mean cat:astro-ph, "),
        ("LLM AND cat:cs.LGG", "did you mean cat:cs.LG, "),
    ],
)
def test_an_unknown_category_is_refused_with_the_closest_known_ones(text, closest):
    with pytest.raises(InterestSyntaxError) as raised:
        validate_interest(text)

    value = text.rpartition(":")[2]
    assert f"“{value}” is not an arXiv category: {closest}" in str(raised.value)


@pytest.mark.parametrize("text", ["cat:CS.lg", "cat:hep", "cat:astro-ph.GA", "cat:q-fin"])
def test_known_categories_archives_and_groups_in_any_case_are_accepted(text):
    assert validate_interest(text) == text


def test_fields_work_after_other_words_too():
    lee = Document("lee", "Graph transformers", authors=("Ann Lee",), categories=("cs.LG",))
    other = Document("other", "Graph transformers", authors=("Bo Smith",), categories=("cs.CV",))

    assert found('graph transformers author:"A. Lee"', lee, other) == ["lee"]
    assert found("graph transformers AND cat:cs.LG", lee, other) == ["lee"]
    assert found("graph transformers -cat:cs.LG", lee, other) == ["other"]
    # Other words with a colon are words: only a line that starts so is refused.
    assert validate_interest("LLM safety: a survey") == "LLM safety: a survey"
    assert validate_interest("graphs title:trees") == "graphs title:trees"


def test_an_exclusion_takes_the_phrase_after_its_minus_up_to_the_next_operator():
    documents = [
        Document("video", "Diffusion models for video generation"),
        Document("image", "Diffusion models for image generation"),
        Document("both-words", "Diffusion models: video quality and generation speed"),
    ]

    # Not "-video" and then "generation" required: the phrase "video generation".
    assert found("diffusion models -video generation", *documents) == ["both-words", "image"]
    assert found("diffusion models -video generation -image", *documents) == ["both-words"]
    assert found("diffusion models -video AND generation", *documents) == ["image"]
    query = parse("diffusion models -video generation AND speed", default_concepts())
    assert [c.text for c in query.required] == ["diffusion models", "speed"]
    assert [c.text for c in query.excluded] == ["video generation"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "graphs -molecules cat:cs.LG",
            "“cat:cs.LG” after the exclusion “-molecules” is unclear: "
            "write “AND cat:cs.LG” to look for it too, or “-cat:cs.LG” to exclude it "
            "(at character 19",
        ),
        (
            'graphs -"social networks" molecules',
            '“molecules” after the exclusion “-"social networks"” is unclear: '
            "write “AND molecules” to look for it too",
        ),
        ("graphs -cat:cs.LG trees", "“trees” after the exclusion “-cat:cs.LG” is unclear"),
        ('graphs -social "networks"', '“"networks"” after the exclusion “-social” is unclear'),
        (
            "-molecules graph neural networks",
            "An exclusion runs to the next AND or minus or the end of the line, so "
            "“-molecules graph neural networks” only excludes: say what to look for first",
        ),
    ],
)
def test_a_line_whose_exclusion_is_unclear_is_refused_saying_how_to_write_it(text, message):
    with pytest.raises(InterestSyntaxError) as raised:
        validate_interest(text)
    assert message in str(raised.value)


def test_spelling_corrections_leave_every_word_of_an_exclusion_alone():
    assert searched_spans("difusion models -vidoe generaton AND speed") == [
        (0, 8), (9, 15), (37, 42)
    ]  # fmt: skip


def test_a_phrase_compiled_once_is_compiled_again_for_another_vocabulary():
    # Parsing keeps compiled phrases for reuse; a vocabulary of its own (a test's, a
    # changed concepts.toml) must get its own expansions, not the previous one's.
    from digest.matching.concepts import build

    plain = build({"synonyms": {}})
    widened = build({"synonyms": {"gnn": ["graph neural networks", "message passing"]}})

    default = parse("graph neural networks", plain).required[0]
    again = parse("graph neural networks", widened).required[0]

    assert parse("graph neural networks", plain).required[0] == default
    assert len(again.alternatives) > len(default.alternatives)
    assert ("messag", "pas") in again.alternatives
