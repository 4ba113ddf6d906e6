"""How fast the matching engine serves many subscribers, against the plain loop.

Generates a day of papers (default 2,000, with abstracts written from topic
vocabularies, acronyms with their definitions, authors and categories) and
subscribers (default 100,000) with 5 interests each, drawn with a Zipf-like
skew from a realistic mix: single words, phrases, acronyms, exclusions, quoted
phrases, categories, authors and AND. Then measures, on one core:

- the engine's whole run: index the papers once, then every subscriber's best
  25 matches (the digest's cap) and total;
- the plain per-subscriber loop (`match_papers`, what a sender without the
  index would call for each subscriber) on a sample of subscribers,
  extrapolated to all of them; the sample's results are checked equal;
- peak memory of the process (ru_maxrss).

    python bench/matching.py [--papers 2000] [--subscribers 100000] [--sample 20]

Prints its figures; the last line is one JSON object.
"""

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.matching import Document, PaperIndex, match_papers

TOPICS = {
    "diffusion models": ["denoising", "score matching", "image generation", "sampling steps"],
    "large language models": ["instruction tuning", "reasoning", "in-context learning", "LLMs"],
    "reinforcement learning": ["policy gradient", "reward model", "offline RL", "agents"],
    "graph neural networks": ["message passing", "node classification", "molecules", "GNNs"],
    "mixture of experts": ["sparse routing", "expert parallelism", "MoE layers", "load balance"],
    "vision transformers": ["patch embeddings", "ViT", "image classification", "attention"],
    "retrieval augmented generation": ["RAG", "dense retrieval", "knowledge base", "citations"],
    "federated learning": ["client drift", "privacy", "communication cost", "FL"],
    "speech recognition": ["ASR", "acoustic model", "word error rate", "wav2vec"],
    "protein structure prediction": ["protein folding", "AlphaFold", "residues", "sequence"],
    "quantum computing": ["qubits", "quantum circuits", "error correction", "VQE"],
    "gravitational waves": ["black hole mergers", "LIGO", "waveforms", "GW"],
    "dark matter": ["halo", "galaxy rotation", "N-body simulations", "cosmology"],
    "robot manipulation": ["grasping", "dexterous hands", "sim-to-real", "robotics"],
    "anomaly detection": ["outliers", "novelty", "time series", "fraud"],
    "neural radiance fields": ["NeRF", "novel view synthesis", "3D reconstruction", "rendering"],
    "spiking neural networks": ["SNN", "neuromorphic hardware", "low-power", "energy efficient"],
    "causal inference": ["treatment effects", "confounders", "counterfactuals", "instruments"],
    "time series forecasting": ["temporal patterns", "long horizon", "seasonality", "transformers"],
    "recommender systems": ["collaborative filtering", "click-through rate", "users", "items"],
    "knowledge graphs": ["entity linking", "link prediction", "KG embeddings", "relations"],
    "autonomous driving": ["LiDAR", "motion planning", "trajectory prediction", "perception"],
    "medical imaging": ["segmentation", "MRI", "radiology", "organ delineation"],
    "generative adversarial networks": ["GANs", "mode collapse", "discriminator", "StyleGAN"],
    "contrastive learning": ["self-supervised learning", "augmentations", "embeddings", "SimCLR"],
    "continual learning": ["catastrophic forgetting", "replay", "task streams", "plasticity"],
    "optimization": ["stochastic gradient descent", "convergence", "learning rate", "Adam"],
    "interpretability": ["explainability", "feature attribution", "probing", "circuits"],
    "single-cell RNA sequencing": ["scRNA-seq", "cell types", "gene expression", "atlases"],
    "climate modeling": ["weather forecasting", "precipitation", "emulators", "reanalysis"],
}
ADJECTIVES = ["scalable", "robust", "efficient", "simple", "novel", "unified", "sparse", "fast"]
VERBS = ["improves", "outperforms", "matches", "reduces the cost of", "generalizes beyond"]
DATASETS = ["ImageNet", "GLUE", "MMLU", "COCO", "D4RL", "OGB", "LibriSpeech", "CASP15"]
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "stat.ML", "quant-ph", "astro-ph.CO",
              "gr-qc", "q-bio.BM", "physics.ao-ph", "cs.IR", "eess.AS"]  # fmt: skip
SURNAMES = ["Lee", "Smith", "Garcia", "Chen", "Müller", "Okafor", "Tanaka", "Rossi", "Novak",
            "Singh", "Kowalski", "Haddad", "Silva", "Johansson", "Dubois", "Kim"]  # fmt: skip
GIVEN = ["Ann", "Bo", "Carla", "Dmitri", "Eun", "Farah", "Goran", "Hana", "Ivo", "Jun"]


def make_paper(rng: random.Random, number: int) -> Document:
    topics = rng.sample(list(TOPICS), rng.choice([1, 1, 2, 2, 3]))
    main = topics[0]
    title = f"{rng.choice(ADJECTIVES).capitalize()} {main} with {rng.choice(TOPICS[main])}"
    sentences = [
        f"We study {main} and {rng.choice(TOPICS[main])}.",
        f"We propose a {rng.choice(ADJECTIVES)} method that {rng.choice(VERBS)} prior work "
        f"on {rng.choice(DATASETS)}.",
    ]
    for topic in topics:
        words = rng.sample(TOPICS[topic], 2)
        sentences.append(f"It relies on {words[0]} and {words[1]} from {topic}.")
    sentences.append(
        f"Experiments show gains of {rng.randint(2, 40)}% with fewer parameters and "
        "lower memory, and we release code and models."
    )
    rng.shuffle(sentences)
    authors = tuple(f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(1, 6)))
    return Document(
        id=f"2611.{number:05d}",
        title=title,
        abstract=" ".join(sentences),
        authors=authors,
        categories=tuple(rng.sample(CATEGORIES, rng.randint(1, 3))),
        upvotes=rng.choice([0, 0, 0, 1, 2, 5, 12, 40]),
    )


def interest_pool(rng: random.Random) -> list[str]:
    """Distinct interests, most popular first: what people type, in a realistic mix."""
    phrases = [*TOPICS, *(w for words in TOPICS.values() for w in words)]
    pool = list(phrases)  # phrases, single words and acronyms from the vocabularies
    pool += ["LLM", "RLHF", "GNN", "ViT", "RL", "GAN", "MoE", "power consumption", "robotics"]
    pool += [f"{a} -{rng.choice(TOPICS[a])}" for a in TOPICS]  # exclusions
    pool += [f'"{w}"' for w in rng.sample(phrases, 20)]  # quoted phrases
    pool += [f"cat:{c}" for c in CATEGORIES]
    pool += [f'author:"{g} {s}"' for g in GIVEN for s in SURNAMES[:4]]
    pool += [f"{a} AND {b}" for a, b in (rng.sample(list(TOPICS), 2) for _ in range(60))]
    rng.shuffle(pool)
    # The long tail, rarer and more specific: what only a few people follow.
    tail = [f"{adjective} {topic}" for adjective in ADJECTIVES for topic in TOPICS]
    tail += [f"{a} AND {b}" for a, b in (rng.sample(phrases, 2) for _ in range(1500))]
    tail += [f"{rng.choice(phrases)} -{rng.choice(phrases)}" for _ in range(1000)]
    rng.shuffle(tail)
    return list(dict.fromkeys(pool + tail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--interests", type=int, default=5)
    parser.add_argument("--sample", type=int, default=20, help="subscribers for the plain loop")
    parser.add_argument("--limit", type=int, default=25)
    args = parser.parse_args()

    rng = random.Random(2026)
    papers = [make_paper(rng, n) for n in range(args.papers)]
    pool = interest_pool(rng)
    popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(pool))]  # Zipf-like
    subscribers = [
        rng.choices(pool, weights=popularity, k=args.interests) for _ in range(args.subscribers)
    ]

    started = time.perf_counter()
    index = PaperIndex(papers)
    indexed = time.perf_counter()
    matched_papers = digests = 0
    for interests in subscribers:
        matches = index.match(interests, args.limit)
        matched_papers += len(matches.results)
        digests += bool(matches.total)
    engine_seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sample = rng.sample(range(args.subscribers), args.sample)
    loop_started = time.perf_counter()
    for s in sample:
        expected = match_papers(subscribers[s], papers, limit=args.limit)
        assert index.match(subscribers[s], args.limit).results == expected, "paths differ"
    loop_per_subscriber = (time.perf_counter() - loop_started) / args.sample
    loop_seconds = loop_per_subscriber * args.subscribers
    # The loop above also ran the (fast) engine once per sampled subscriber; negligible.

    print(f"{args.papers} papers, {args.subscribers} subscribers x {args.interests} interests")
    print(f"distinct interests: {len(index._interests)}, of a pool of {len(pool)}")
    print(
        f"engine: index {indexed - started:.2f} s, whole run {engine_seconds:.2f} s "
        f"({args.subscribers / engine_seconds:,.0f} subscribers/s); "
        f"{digests} subscribers with a digest, {matched_papers / args.subscribers:.1f} papers each"
    )
    print(
        f"plain loop: {loop_per_subscriber:.3f} s per subscriber on a sample of {args.sample}, "
        f"extrapolated to {args.subscribers}: {loop_seconds:,.0f} s"
    )
    speedup = loop_seconds / engine_seconds
    print(f"engine is {speedup:,.0f} times faster; peak memory {peak_mb:.0f} MB")
    print(
        json.dumps(
            {
                "papers": args.papers,
                "subscribers": args.subscribers,
                "engine_seconds": round(engine_seconds, 2),
                "index_seconds": round(indexed - started, 2),
                "plain_loop_seconds_extrapolated": round(loop_seconds),
                "plain_loop_sample": args.sample,
                "speedup": round(loop_seconds / engine_seconds),
                "peak_memory_mb": round(peak_mb),
                "distinct_interests": len(index._interests),
            }
        )
    )


if __name__ == "__main__":
    main()
