"""Clauses evaluated on a paper once (digest/matching/evaluated.py): an index that takes
their hits from the papers' records matches exactly as one that evaluates them, reads
no analysis where the records have every clause asked, and never reads a record made
of another text or by another analyser."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.matching import Concepts, Document, PaperIndex, engine, evaluated, match_papers
from digest.matching.evaluate import Hit
from tests.matching.counting import count_analyses
from tests.matching.test_batch import INTERESTS, many_documents


def records_of(index: PaperIndex, documents, only=None) -> dict[str, evaluated.Evaluated]:
    """The records `index` gives of its papers (those in `only`), as stored and read back."""
    clauses, hits = index.evaluations()
    data = evaluated.dumps_clauses(clauses)
    by_id = {d.id: d for d in documents}
    return {
        paper_id: evaluated.read(
            evaluated.key(by_id[paper_id]),
            evaluated.loads_clauses(data),
            evaluated.dumps_hits(found),
        )
        for paper_id, found in hits.items()
        if only is None or paper_id in only
    }


@settings(max_examples=80, deadline=None)
@given(
    documents=many_documents,
    recorded=st.lists(st.sampled_from(INTERESTS), max_size=12),
    subscribers=st.lists(st.lists(st.sampled_from(INTERESTS), max_size=8), max_size=6),
    limit=st.none() | st.integers(1, 40),
    keep=st.none() | st.integers(0, 5),
    share=st.integers(0, 3),
    known=st.booleans(),
)
def test_an_index_over_records_matches_as_the_plain_loop(
    documents, recorded, subscribers, limit, keep, share, known
):
    # Some papers have records of some clauses (a fetch's, before the interests asked
    # now were written), the others none: what the records lack is evaluated, while
    # indexing (`known`) or when asked.
    unique = engine._unique(documents)
    some = {d.id for d in unique[: len(unique) * share // 3]}
    records = records_of(PaperIndex(documents, interests=recorded), documents, some)
    everyone = [text for interests in subscribers for text in interests]

    index = PaperIndex(documents, interests=everyone if known else (), keep=keep, evaluated=records)

    for interests in subscribers:
        matches = index.match(interests, limit)
        assert matches.results == match_papers(interests, documents, limit=limit)
        assert matches.total == len(match_papers(interests, documents))
        for text in interests:
            assert index.papers_of(text) == PaperIndex(documents).papers_of(text)


def test_papers_whose_records_have_every_clause_asked_are_not_analysed(monkeypatch):
    documents = [
        Document("p1", "Graph neural networks for molecules", authors=("Ann Lee",)),
        Document("p2", "Diffusion models", "for images", categories=("cs.CV",)),
        Document("p3", "Protein folding with language models"),
    ]
    interests = ["graph neural networks", "language models -diffusion", 'author:"A. Lee"']
    records = records_of(PaperIndex(documents, interests=interests), documents)
    made = count_analyses(monkeypatch, engine)

    index = PaperIndex(documents, interests=interests, evaluated=records)

    assert made == []
    assert [r.document_id for r in index.match(interests).results] == ["p1", "p3"]
    # An interest no record has is evaluated on the papers, analysed now.
    assert index.match(["diffusion models"]).total == 1
    assert sorted(made) == ["p1", "p2", "p3"]


def test_only_the_papers_without_a_record_are_analysed(monkeypatch):
    documents = [Document(f"p{i}", f"graph neural networks {i}") for i in range(5)]
    records = records_of(PaperIndex(documents[:3], interests=["graph neural networks"]), documents)
    made = count_analyses(monkeypatch, engine)

    index = PaperIndex(documents, interests=["graph neural networks"], evaluated=records)

    assert sorted(made) == ["p3", "p4"]
    assert index.match(["graph neural networks"]).total == 5


@settings(max_examples=40, deadline=None)
@given(
    documents=many_documents,
    interests=st.lists(st.sampled_from(INTERESTS), max_size=8),
    picked=st.sets(st.integers(0, 30)),
)
def test_the_evaluations_of_some_papers_are_theirs_of_all(documents, interests, picked):
    # A window records only the papers no fetch recorded: their hits, as all papers'.
    index = PaperIndex(documents, interests=interests)
    clauses, everyone = index.evaluations()
    some = [paper_id for i, paper_id in enumerate(everyone) if i in picked]

    assert index.evaluations(some) == (clauses, {p: everyone[p] for p in some})


def test_a_record_of_another_text_or_other_authors_is_not_read():
    before = Document("p1", "Graph neural networks", authors=("Ann Lee",))
    interests = ["graph neural networks", "author:Lee"]
    records = records_of(PaperIndex([before], interests=interests), [before])

    retitled = Document("p1", "Diffusion models", authors=("Ann Lee",))
    reauthored = Document("p1", "Graph neural networks", authors=("Bo Smith",))

    assert (
        PaperIndex([retitled], interests=interests, evaluated=records)
        .match(["graph neural networks"])
        .total
        == 0
    )
    assert (
        PaperIndex([reauthored], interests=interests, evaluated=records).match(["author:Lee"]).total
        == 0
    )


def test_a_record_key_is_the_analysers_and_every_field_a_clause_reads():
    paper = Document("p1", "Graph", "networks", authors=("Ann Lee",), categories=("cs.LG",))

    assert evaluated.key(paper).startswith(engine.stored.fingerprint())
    for changed in (
        Document("p1", "Graph networks", "", authors=("Ann Lee",), categories=("cs.LG",)),
        Document("p1", "Graph", "networks", authors=("Ann Lee", "Bo"), categories=("cs.LG",)),
        Document("p1", "Graph", "networks", authors=("Ann Lee",), categories=("cs.CL",)),
        # an author and a category may not trade places
        Document("p1", "Graph", "networks", authors=(), categories=("Ann Lee", "cs.LG")),
    ):
        assert evaluated.key(changed) != evaluated.key(paper)
    # upvotes are not read by any clause
    assert evaluated.key(dataclasses.replace(paper, upvotes=9)) == evaluated.key(paper)


def test_hits_and_clause_sets_read_back_as_they_were():
    hits = {"a1": Hit(frozenset({"title", "abstract"}), ("GNNs", "graph nets"), True)}
    clauses = frozenset({"a1", "b2", "c3"})

    assert evaluated.loads_hits(evaluated.dumps_hits(hits)) == hits
    assert evaluated.loads_clauses(evaluated.dumps_clauses(clauses)) == clauses
    assert evaluated.clauses_digest(["b2", "a1"]) == evaluated.clauses_digest(["a1", "b2"])
    assert evaluated.clauses_digest(["a1"]) != evaluated.clauses_digest(["a1", "b2"])


def test_records_are_refused_with_other_concepts():
    document = Document("p1", "graph neural networks")
    records = records_of(PaperIndex([document], interests=["graph"]), [document])

    with pytest.raises(ValueError, match="default concepts"):
        PaperIndex([document], Concepts(), evaluated=records)
