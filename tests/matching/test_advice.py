"""Per-interest advice: what each line finds among a window of papers, the line that
finds nothing (with what it may have meant) and the line that finds most papers."""

from digest.matching import Document, PaperIndex, default_concepts
from digest.matching.advice import MIN_PAPERS_FOR_SHARE, advise, everything
from digest.matching.spelling import Spelling

FILLER = [
    Document(f"other{i:02}", f"The study of topic {i}", f"The results of the method {i}.")
    for i in range(MIN_PAPERS_FOR_SHARE)
]
PAPERS = [
    Document("rl", "Offline reinforcement learning for robots", "The agent learns.", upvotes=3),
    Document("rl-abstract", "Robots that learn", "We use reinforcement learning."),
    Document("anomaly", "Anomaly detection in logs", "The logs.", categories=("cs.SE",)),
    *FILLER,
]


def advice(interests, **options):
    index = PaperIndex(PAPERS)
    spelling = Spelling.of(
        ([p.document.title, p.document.abstract] for p in index.papers), default_concepts()
    )
    return index, advise(index, interests, spelling, **options)


def test_each_line_says_how_many_papers_it_finds_and_its_best_one():
    _, (rl, anomaly) = advice(["reinforcement learning", "anomaly detection"])

    assert (rl.matches, rl.example, rl.silent, rl.broad) == (2, "rl", False, False)
    assert (anomaly.matches, anomaly.example) == (1, "anomaly")
    assert rl.considered == len(PAPERS)


def test_a_line_that_finds_nothing_is_silent_with_the_spelling_it_may_mean():
    _, (typo, unknown) = advice(["reinforcment learning", "xylophonics"])

    assert (typo.matches, typo.example, typo.silent) == (0, None, True)
    assert typo.suggestion == "reinforcement learning"
    assert (unknown.silent, unknown.suggestion) == (True, None)


def test_a_line_that_finds_most_papers_is_too_broad():
    _, (the,) = advice(["the"])

    assert the.broad and the.share > 0.9 and the.suggestion is None


def test_only_the_papers_considered_count_a_subscribers_categories():
    index = PaperIndex(PAPERS)
    in_se = sum(1 << i for i, p in enumerate(index.papers) if "cs.SE" in p.document.categories)
    spelling = Spelling({})

    anomaly, the = advise(index, ["anomaly detection", "the"], spelling, among=in_se)
    everywhere = advise(index, ["the"], spelling, among=everything(index))[0]

    assert (anomaly.matches, anomaly.considered) == (1, 1)
    assert not the.broad  # one paper is too few for a share to mean anything
    assert everywhere.broad
