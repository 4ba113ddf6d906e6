"""What a digest's item costs where its caches are cold: the excerpt of a real abstract
around the matched words, and the highlights of the title and the excerpt.

Two ways of finding a word's places, in turns in one process (so both see the machine
at the same speed), every cache cleared before each round:

- `word_spans`: str.find on the lower case of ASCII text, the pattern for other text
  (digest/excerpts.py, what the digests use);
- the pattern alone: `word_pattern(word).finditer`, a pattern compiled for each new
  word, run with IGNORECASE and lookarounds (what they used before).

The papers are the bundled real sample (bench/matching.py's records), each 20 times
with other words: one to three of its own words or two-word phrases, as written, as
the engine reports a match.

    python bench/highlights.py [--rounds 5] [--repeat 20]

Prints its figures; the last line is one JSON object.
"""

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching import records

from digest import excerpts
from digest.templatetags import digest_tags


def _by_pattern(text: str, word: str, lowered: str | None = None) -> list[tuple[int, int]]:
    return [found.span() for found in excerpts.word_pattern(word).finditer(text)]


def jobs(repeat: int, rng: random.Random) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for record in records():
        title, abstract = record["title"], record["abstract"]
        tokens = re.findall(r"\w[\w-]*", abstract)
        if len(tokens) < 2:
            continue
        for _ in range(repeat):
            words = set()
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(tokens) - 1)
                words.add(" ".join(tokens[at : at + rng.choice((1, 1, 2))]))
            found.append((title, abstract, tuple(words)))
    return found


def round_seconds(work: list[tuple[str, str, tuple[str, ...]]], spans) -> float:
    excerpts.word_spans = digest_tags.word_spans = spans
    excerpts._sentences_holding.cache_clear()
    excerpts._layout.cache_clear()
    excerpts.word_pattern.cache_clear()
    started = time.process_time()
    for title, abstract, words in work:
        shown = excerpts.excerpt(abstract, words)
        digest_tags.highlight(title, words)
        digest_tags.highlight(shown, words)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    work = jobs(args.repeat, random.Random(7))
    ascii_share = sum(abstract.isascii() for _, abstract, _ in work) / len(work)
    find_way = excerpts.word_spans
    seconds: dict[str, list[float]] = {"word_spans": [], "pattern": []}
    try:
        for _ in range(args.rounds):
            seconds["word_spans"].append(round_seconds(work, find_way))
            seconds["pattern"].append(round_seconds(work, _by_pattern))
    finally:
        excerpts.word_spans = digest_tags.word_spans = find_way
    us = {way: statistics.median(runs) * 1e6 / len(work) for way, runs in seconds.items()}
    print(
        f"{len(work)} (abstract, words) items, {ascii_share:.0%} of the abstracts ASCII; "
        f"an excerpt and two highlights, cold, CPU per item (median of {args.rounds} "
        f"rounds): word_spans {us['word_spans']:.1f} us, the pattern alone "
        f"{us['pattern']:.1f} us ({us['pattern'] / us['word_spans']:.2f}x)"
    )
    print(
        json.dumps(
            {
                "items": len(work),
                "ascii_share": round(ascii_share, 3),
                "word_spans_us": round(us["word_spans"], 1),
                "pattern_us": round(us["pattern"], 1),
                "rounds": args.rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
