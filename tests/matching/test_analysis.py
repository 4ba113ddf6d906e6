"""Text analysis: what its shortcuts must not change."""

import gzip
import json
import re
from pathlib import Path

import pytest

from digest.matching import analysis

SAMPLE = Path(analysis.__file__).resolve().parent.parent / "sample" / "arxiv-records.jsonl.gz"
TRICKY = [
    "Code at github.com/NJU-RL/agent_rl and https://x.org/a_b; mail rl@lab.edu.",
    "See WWW.Example.COM/RL, train_rl.py, config.json and RL_agent/GAN.",
    "No address: encoder/decoder RL and a_b, ends with_",
    "only a file: model.py",
    "ftp://host/path and user.name+tag@mail.co.uk",
]


def whole_expression_words(text: str) -> list[tuple[int, int] | None]:
    """The words of `text` as the single expression of every opaque kind finds them."""
    opaque = re.compile("|".join(analysis._OPAQUE_PARTS), re.IGNORECASE)
    found: list[tuple[int, int] | None] = []
    last = 0
    for hidden in opaque.finditer(text):
        found += [m.span() for m in analysis._TOKEN.finditer(text, last, hidden.start())]
        found.append(None)
        last = hidden.end()
    return found + [m.span() for m in analysis._TOKEN.finditer(text, last)]


def whole_expression_segments(text: str) -> list[tuple[int, int]]:
    """The stretches between what the single expression of every opaque kind hides."""
    opaque = re.compile("|".join(analysis._OPAQUE_PARTS), re.IGNORECASE)
    found, last = [], 0
    for hidden in opaque.finditer(text):
        found.append((last, hidden.start()))
        last = hidden.end()
    return [*found, (last, len(text))]


def reference_tokens(text: str, opaque: bool) -> list[tuple[str, int, int, int]]:
    """(word, position, start, end) of each word, read one match at a time: what
    tokenize's one split per stretch must give."""
    spans = whole_expression_words(text) if opaque else whole_expression_words_plain(text)
    found, position, previous_end, hidden = [], 0, None, False
    for span in spans:
        if span is None:
            hidden = True
            continue
        start, end = span
        if previous_end is not None:
            between = text[previous_end:start]
            joined = not hidden and analysis._JOINING.match(between) is not None
            position += 1 if joined else 2
        hidden = False
        found.append((text[start:end], position, start, end))
        previous_end = end
    return found


def whole_expression_words_plain(text: str) -> list[tuple[int, int] | None]:
    return [m.span() for m in analysis._TOKEN.finditer(text)]


def sample_texts() -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return [r[field] for r in records for field in ("title", "abstract")]


@pytest.mark.parametrize("text", TRICKY)
def test_addresses_and_identifiers_are_no_words_whichever_kinds_a_text_has(text):
    segments = analysis._segments(text, opaque=True)

    assert segments == whole_expression_segments(text)
    assert len(segments) > 1


def test_the_sample_papers_words_are_those_of_the_whole_expression():
    checked = 0
    for text in sample_texts():
        if any(mark in text for mark in ("/", "@", "_", "www.", ".py")):
            assert analysis._segments(text, opaque=True) == whole_expression_segments(text), text
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("opaque", [False, True])
def test_tokens_are_those_read_one_match_at_a_time(opaque):
    odd = [
        "",
        " ",
        "a",
        "-a-",
        "pre-training  models",
        "x\u2013y / z",
        "(MoE)-based",
        "é\u0301t\u00e9",
    ]
    for text in [*TRICKY, *odd, *sample_texts()]:
        tokens = analysis.tokenize(text, opaque=opaque)
        got = [(text[t.start : t.end], t.position, t.start, t.end) for t in tokens]
        assert got == reference_tokens(text, opaque), text
        assert all(t.folded == analysis.fold(text[t.start : t.end]) for t in tokens)
