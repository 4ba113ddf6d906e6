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


def sample_texts() -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return [r[field] for r in records for field in ("title", "abstract")]


@pytest.mark.parametrize("text", TRICKY)
def test_addresses_and_identifiers_are_no_words_whichever_kinds_a_text_has(text):
    words = [m and m.span() for m in analysis._words(text, opaque=True)]

    assert words == whole_expression_words(text)
    assert None in words


def test_the_sample_papers_words_are_those_of_the_whole_expression():
    checked = 0
    for text in sample_texts():
        if any(mark in text for mark in ("/", "@", "_", "www.", ".py")):
            words = [m and m.span() for m in analysis._words(text, opaque=True)]
            assert words == whole_expression_words(text), text
            checked += 1
    assert checked > 50
