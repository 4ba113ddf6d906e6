"""A paper's analysis read back from its stored bytes is the analysis made from its text:
the same tokens, terms and layouts, so an index over stored analyses matches exactly
as one over fresh ones (and as the plain loop)."""

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.matching import Document, PaperIndex, engine, match_papers, stored
from digest.matching.about import Layout, layout
from digest.matching.concepts import Concepts, default_concepts
from digest.matching.evaluate import AnalyzedDocument
from tests.matching.test_batch import INTERESTS, many_documents

SAMPLE = Path(__file__).resolve().parents[2] / "digest" / "sample" / "arxiv-records.jsonl.gz"


def sample_documents() -> list[Document]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return [
        Document(
            record["id"],
            record["title"],
            record["abstract"],
            tuple(record.get("authors") or ()),
            tuple(record.get("categories") or ()),
        )
        for record in records
    ]


def stored_pair(document: Document, concepts: Concepts) -> tuple[str, bytes]:
    return stored.key(document), stored.dumps(AnalyzedDocument(document, concepts))


def test_every_sample_paper_reads_back_as_its_analysis():
    concepts = default_concepts()
    documents = sample_documents()
    assert len(documents) > 300

    for document in documents:
        made = AnalyzedDocument(document, concepts)
        read = stored.loads(stored.dumps(made), document)

        assert (read.document, read.authors, read.categories, read.category_keys) == (
            made.document,
            made.authors,
            made.categories,
            made.category_keys,
        )
        for name, field in made.fields.items():
            again = read.fields[name]
            # the words as written between two positions, read from the stored columns
            size = len(field.tokens) + 1
            for start, end in [(0, size), (1, 3), (size // 2, size - 1), (3, 2), (size, size + 2)]:
                assert again.surface(start, end) == field.surface(start, end)
            assert (again.text, again.tokens, again.spans) == (
                field.text,
                field.tokens,
                field.spans,
            )
            # spans in the same order: candidates' mentions are found in that order
            assert list(again.spans) == list(field.spans)
            for slot in Layout.__slots__:
                assert getattr(again.layout, slot) == getattr(layout(field), slot), slot


def test_the_key_is_the_analysers_and_the_texts():
    paper = Document("2401.00001", "Diffusion models", "We study diffusion.")

    assert stored.key(paper) == stored.key(Document("2401.00001", "Diffusion models",
                                                    "We study diffusion.", upvotes=9))  # fmt: skip
    assert stored.key(paper) != stored.key(
        Document("2401.00001", "Diffusion model", "We study diffusion.")
    )
    assert stored.key(paper) != stored.key(
        Document("2401.00001", "Diffusion models", "We study it.")
    )
    # a title and abstract that only trade a word are two texts
    assert stored.key(Document("x", "a b", "c")) != stored.key(Document("x", "a", "b c"))
    assert len(stored.fingerprint()) == 16


def test_an_index_reads_the_stored_analyses_and_makes_only_the_others(monkeypatch):
    documents = [Document(f"p{i}", f"graph neural networks {i}", "for molecules") for i in range(6)]
    concepts = default_concepts()
    bytes_of = {d.id: stored_pair(d, concepts) for d in documents[:4]}
    made = []

    class Counted(AnalyzedDocument):
        def __init__(self, document, concepts):
            made.append(document.id)
            super().__init__(document, concepts)

    monkeypatch.setattr(engine, "AnalyzedDocument", Counted)
    index = PaperIndex(documents, interests=["graph neural networks"], stored=bytes_of)

    assert sorted(made) == ["p4", "p5"]
    assert index.match(["graph neural networks"]).total == 6
    assert bytes_of == {}  # each paper's bytes dropped once read: a window holds no more


def test_an_analysis_of_another_text_is_not_read(monkeypatch):
    concepts = default_concepts()
    before = Document("p1", "Graph neural networks", "for molecules")
    after = Document("p1", "Diffusion models", "for molecules")  # a new version's title
    made = []
    monkeypatch.setattr(stored, "loads", lambda data, document: made.append(document))

    index = PaperIndex([after], stored={"p1": stored_pair(before, concepts)})

    assert made == []
    assert index.match(["diffusion models"]).total == 1
    assert index.match(["graph neural networks"]).total == 0


def test_the_fingerprint_covers_every_module_the_analysis_is_made_by():
    here = Path(stored.__file__).parent
    covered = set(stored._ANALYSER)
    for name in [n for n in covered if n.endswith(".py")]:
        source = (here / name).read_text(encoding="utf-8")
        imported = re.findall(r"^from digest\.matching\.(\w+) import", source, re.MULTILINE)
        imported += re.findall(r"^from digest\.matching import (\w+)", source, re.MULTILINE)
        assert {f"{module}.py" for module in imported} <= covered, name


def test_stored_analyses_are_refused_with_other_concepts():
    document = Document("p1", "graph neural networks")
    data = {"p1": stored_pair(document, default_concepts())}

    with pytest.raises(ValueError, match="default concepts"):
        PaperIndex([document], Concepts(), stored=data)


@settings(max_examples=60, deadline=None)
@given(
    documents=many_documents,
    subscribers=st.lists(st.lists(st.sampled_from(INTERESTS), max_size=8), max_size=6),
    limit=st.none() | st.integers(1, 40),
    keep=st.none() | st.integers(0, 5),
    share=st.integers(0, 3),
)
def test_an_index_over_stored_analyses_matches_as_the_plain_loop(
    documents, subscribers, limit, keep, share
):
    # Some papers' analyses stored, the others made; with few kept, both kinds are made
    # again (read back or analysed) when a later interest asks for them.
    concepts = default_concepts()
    unique = engine._unique(documents)
    bytes_of = {
        d.id: stored.dumps(AnalyzedDocument(d, concepts))
        for d in unique[: len(unique) * share // 3]
    }
    everyone = [text for interests in subscribers for text in interests]
    index = PaperIndex(documents, interests=everyone[::2], keep=keep, stored=bytes_of)

    for interests in subscribers:
        matches = index.match(interests, limit)
        assert matches.results == match_papers(interests, documents, limit=limit)
        assert matches.total == len(match_papers(interests, documents))
