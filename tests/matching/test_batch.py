"""The batch path (an index over the papers, bit sets per subscriber) gives exactly
what the plain per-subscriber loop gives: same papers, order, scores and reasons."""

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.matching import Document, PaperIndex, match_many, match_papers

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
