"""The like: line: every way of naming an arXiv paper reads as its canonical id, and a
line that names none is refused with what is wrong. Pure: no database."""

import pytest

from digest.matching import InterestSyntaxError, default_concepts, like, validate_interest
from digest.matching.engine import match_papers, queries
from digest.matching.evaluate import Document


@pytest.mark.parametrize(
    ("line", "canonical"),
    [
        ("like:2403.12345", "2403.12345"),
        ("like:2403.12345v2", "2403.12345"),
        ("  LIKE : 2403.12345v11 ", "2403.12345"),
        ("like:0704.0001", "0704.0001"),
        ("like:hep-th/9901001", "hep-th/9901001"),
        ("like:hep-th/9901001v3", "hep-th/9901001"),
        ("like:math.AG/0309136", "math.AG/0309136"),
        ("like:https://arxiv.org/abs/2403.12345", "2403.12345"),
        ("like:https://arxiv.org/abs/2403.12345v2", "2403.12345"),
        ("like:http://arxiv.org/pdf/2403.12345v1", "2403.12345"),
        ("like:https://arxiv.org/pdf/2403.12345.pdf", "2403.12345"),
        ("like:https://arxiv.org/html/2403.12345v1", "2403.12345"),
        ("like:https://export.arxiv.org/abs/hep-th/9901001", "hep-th/9901001"),
        ("like:arxiv.org/abs/2403.12345", "2403.12345"),
        ("like:www.arxiv.org/abs/2403.12345v4", "2403.12345"),
        ("like:arXiv:2403.12345", "2403.12345"),
        ("like:10.48550/arXiv.2403.12345", "2403.12345"),
        ("like:https://doi.org/10.48550/arXiv.2403.12345", "2403.12345"),
        ("like:https://huggingface.co/papers/2403.12345", "2403.12345"),
    ],
)
def test_each_spelling_of_a_paper_reads_as_its_canonical_id(line, canonical):
    assert like.like_id(line) == canonical
    assert validate_interest(line) == f"like:{canonical}"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("like:", "there is none"),
        ("like:   ", "there is none"),
        ("like:2403.123", "not a whole arXiv id"),
        ("like:2403", "not a whole arXiv id"),
        ("like:2403.12345v", "not a whole arXiv id"),
        ("like:diffusion models", "not an arXiv id"),
        ("like:https://example.org/abs/2403.12345", "no arXiv link"),
        ("like:https://evilarxiv.org/abs/2403.12345", "no arXiv link"),
        ("like:example.org/abs/2403.12345", "no arXiv link"),
        ("like:https://arxiv.org/list/cs.LG/recent", "no arXiv link"),
    ],
)
def test_a_like_line_naming_no_paper_is_refused_saying_what_is_wrong(line, says):
    with pytest.raises(InterestSyntaxError, match=says):
        validate_interest(line)


@pytest.mark.parametrize("line", ["likelihood estimation", "like minded", "unlike:2403.12345"])
def test_lines_that_only_start_like_it_are_not_like_lines(line):
    assert not like.is_like(line)
    assert like.like_id(line) is None


def test_seed_ids_are_each_paper_once_in_order_broken_lines_left_out():
    lines = [
        "like:2403.12345v2",
        "LLM",
        "like:arxiv.org/abs/2403.12345",
        "like:nope",
        "like:hep-th/9901001",
    ]
    assert like.seed_ids(lines) == ["2403.12345", "hep-th/9901001"]


def test_the_engine_reads_no_words_in_a_like_line():
    concepts = default_concepts()
    # The id's own digits are in this paper's abstract: still no match for the like line.
    paper = Document(
        id="2501.00001",
        title="Like what you read: 2403.12345 revisited",
        abstract="We revisit arXiv 2403.12345 and like it.",
    )
    assert queries(["like:2403.12345", "revisited"], concepts)[0].text == "revisited"
    assert len(queries(["like:2403.12345"], concepts)) == 0
    assert match_papers(["like:2403.12345"], [paper], concepts=concepts) == []
    assert len(match_papers(["like:2403.12345", "revisited"], [paper], concepts=concepts)) == 1
