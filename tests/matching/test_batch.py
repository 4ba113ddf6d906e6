"""The batch path (an index over the papers, bit sets per subscriber) gives exactly
what the plain per-subscriber loop gives: same papers, order, scores and reasons."""

import gc

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.matching import Document, PaperIndex, engine, match_many, match_papers

WORDS = [
    "graph", "neural", "networks", "network", "diffusion", "models", "model", "LLM", "LLMs",
    "large", "language", "mixture-of-experts", "MoE", "experts", "reinforcement", "learning",
    "RL", "URL", "organ", "GAN", "GANs", "energy", "efficient", "low-power", "power",
    "consumption", "protein", "folding", "pre-training", "pretraining", "the", "of", "for",
    "Sparse", "Token", "Routing", "(STR)", "STR", "quantum", ".", ",", "efficiency", "deep",
    "transformers", "DiT",
]  # fmt: skip
INTERESTS = [
    "graph neural networks", "diffusion models", "LLM", "large language models",
    "mixture of experts", "RL", "GAN", "power consumption", "protein folding", "pretraining",
    "sparse token routing", "STR", '"graph neural"', "graph -diffusion", "LLM AND protein",
    "cat:cs.LG", "cat:quant-ph", "quantum physics", 'author:"A. Lee"', "author:Smith",
    "energy", "models -GAN", "neural AND folding -URL",
    # one concept each, counted once for a paper that matches several of them
    "language models", "LLMs", "LLM -GAN", "energy efficiency", "reinforcement learning",
    "deep reinforcement learning", "diffusion transformers",
]  # fmt: skip
AUTHORS = ["Ann Lee", "Bo Smith", "Cy Lee", "Di Smith-Jones"]
CATEGORIES = ["cs.LG", "cs.CL", "quant-ph", "stat.ML", "hep-th"]

text = st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join)
documents = st.lists(
    st.builds(
        Document,
        id=st.text("abcdef0123", min_size=1, max_size=4),
        title=text,
        abstract=text,
        authors=st.lists(st.sampled_from(AUTHORS), max_size=2).map(tuple),
        categories=st.lists(st.sampled_from(CATEGORIES), max_size=2).map(tuple),
        upvotes=st.integers(0, 3),
    ),
    max_size=30,
)
subscribers = st.dictionaries(
    st.integers(0, 50), st.lists(st.sampled_from(INTERESTS), max_size=6), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(documents=documents, subscribers=subscribers, limit=st.none() | st.integers(1, 5))
def test_the_batch_path_equals_the_plain_loop(documents, subscribers, limit):
    batch = dict(match_many(subscribers, documents, limit=limit))

    for key, interests in subscribers.items():
        expected = match_papers(interests, documents, limit=limit)
        assert batch[key].results == expected
        assert batch[key].total == len(match_papers(interests, documents))


def test_the_index_reports_the_total_beyond_the_limit():
    documents = [Document(f"p{i}", "graph neural networks") for i in range(30)]

    matches = PaperIndex(documents).match(["graph neural networks"], limit=25)

    assert (len(matches.results), matches.total) == (25, 30)


def test_disjoint_interests_of_equal_weight_interleave_in_tie_break_order():
    # Each interest matches two papers of its own, so both weigh the same; the digest is
    # the four papers in tie-break order (upvotes, then id), not one interest's first.
    documents = [
        Document("a1", "Graph neural networks", upvotes=3),
        Document("b1", "Protein folding", upvotes=2),
        Document("a2", "Graph neural networks", upvotes=1),
        Document("b2", "Protein folding", upvotes=0),
    ]
    interests = ["graph neural networks", "protein folding"]

    matches = PaperIndex(documents).match(interests, limit=3)

    assert [r.document_id for r in matches.results] == ["a1", "b1", "a2"]
    assert matches.results == match_papers(interests, documents, limit=3)
    assert matches.total == 4


many_documents = st.lists(
    st.builds(
        Document,
        id=st.text("abcdef0123", min_size=1, max_size=4),
        title=st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
        abstract=text,
        authors=st.lists(st.sampled_from(AUTHORS), max_size=2).map(tuple),
        categories=st.lists(st.sampled_from(CATEGORIES), max_size=2).map(tuple),
        upvotes=st.integers(0, 3),
    ),
    min_size=20,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(
    documents=many_documents,
    subscribers=st.lists(st.lists(st.sampled_from(INTERESTS), max_size=8), max_size=6),
    limit=st.none() | st.integers(1, 40),
    mode=st.sampled_from(["lazy", "known", "prepared"]),
    keep=st.none() | st.integers(0, 5),
)
def test_one_index_serves_many_subscribers_as_the_plain_loop(
    documents, subscribers, limit, mode, keep
):
    # One index for every subscriber, as a sender uses it: what one subscriber's match
    # leaves behind (ranked heads, shared Results) must not change another's; nor must
    # evaluating the interests while indexing ("known"), in bulk afterwards ("prepared")
    # or with few analyses kept (made again when asked).
    everyone = [text for interests in subscribers for text in interests]
    index = PaperIndex(documents, interests=everyone if mode == "known" else (), keep=keep)
    if mode == "prepared":
        index.prepare(everyone[: len(everyone) // 2])

    for interests in [*subscribers, *reversed(subscribers)]:
        matches = index.match(interests, limit)
        assert matches.results == match_papers(interests, documents, limit=limit)
        assert matches.total == len(match_papers(interests, documents))
        for text in interests:
            assert index.papers_of(text) == PaperIndex(documents).papers_of(text)


def test_the_analyses_kept_are_bounded_and_the_others_made_again():
    documents = [Document(f"p{i}", f"graph neural networks {i}") for i in range(10)]

    index = PaperIndex(documents, keep=3)

    assert len(index.papers._kept) == 3
    assert [p.document.id for p in index.papers] == index.ids
    assert len(index.papers._kept) == 3
    assert index.match(["graph neural networks"]).total == 10


def collections_while(build) -> list[int]:
    """The generations the cycle collector went through while `build` ran."""
    seen: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        build()
    finally:
        gc.callbacks.remove(count)
    return seen


def test_a_big_index_is_built_with_the_cycle_collector_paused_then_one_full_pass():
    documents = [
        Document(f"p{i}", f"graph neural networks for molecules {i}", "We propose a method.")
        for i in range(engine.PAUSE_COLLECTOR_FROM)
    ]

    seen = collections_while(lambda: PaperIndex(documents, interests=["graph neural networks"]))

    assert seen == [2]
    assert gc.isenabled()


def test_an_index_leaves_a_paused_collector_paused():
    documents = [Document(f"p{i}", f"graph {i}") for i in range(engine.PAUSE_COLLECTOR_FROM)]
    gc.disable()
    try:
        seen = collections_while(lambda: PaperIndex(documents))
        assert not gc.isenabled()
    finally:
        gc.enable()

    assert seen == []
