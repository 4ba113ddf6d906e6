"""Which papers match a subscriber's interests, ranked, and why.

Pure Python, no Django: the engine can be tested and benchmarked alone.

- `query`: the interest language (phrases, acronyms, "exact", -exclusions,
  author:, cat:, AND) and its errors, InterestSyntaxError (an unknown category
  named with the closest known ones).
- `analysis`: words to stems and terms, with hyphen compounds, acronyms and a
  paper's own definitions; `concepts` (+ concepts.toml): the vocabulary.
- `evaluate`: does an interest match one paper, on which words, where.
- `engine`: ranking (interests of one concept count once); `match_papers` for
  one subscriber, `match_many` / `PaperIndex` for many at once with identical
  results.
- `trending`: the `trending` / `trending:N` line, the period's most upvoted papers
  on Hugging Face; no query, so the engine skips it and the digest adds its papers.
- `like`: the `like:2403.12345` line (a seed: papers like that one); no query either,
  so the engine skips it; digest/seeds.py finds the paper.
- `spelling`: corrections from the papers' words and the thesaurus;
  `advice`: what each interest finds among a window of papers, the one that
  finds nothing (with what it may mean) and the one that finds most papers.
"""

from digest.matching import like, trending
from digest.matching.advice import Advice, advise
from digest.matching.concepts import Concepts, default_concepts
from digest.matching.engine import (
    Matches,
    PaperIndex,
    Result,
    clause_keys,
    match_many,
    match_papers,
    same_concept,
)
from digest.matching.evaluate import Document, Reason, category_keys
from digest.matching.query import MAX_INTEREST_LENGTH, InterestSyntaxError, parse
from digest.matching.spelling import Spelling

# Valid interests as typed -> tidied, for the concepts they were parsed with: the live
# preview validates what a visitor types at every keystroke, mostly lines it saw before
# (parsing one costs more than the rest of a preview's work on the web side).
_valid: dict[str, str] = {}
_valid_for: list[Concepts] = []
_VALID_MAX = 20_000


def validate_interest(text: str) -> str:
    """The interest tidied up (whitespace folded), or InterestSyntaxError saying why not."""
    if trending.is_trending(text):
        return trending.tidy(text)
    if like.is_like(text):
        return like.tidy(text)
    concepts = default_concepts()
    if not _valid_for or _valid_for[0] is not concepts:
        _valid.clear()
        _valid_for[:] = [concepts]
    found = _valid.get(text)
    if found is None:
        found = parse(text, concepts).text  # an error is raised again every time
        if len(_valid) >= _VALID_MAX:
            _valid.clear()
        _valid[text] = found
    return found


__all__ = [
    "MAX_INTEREST_LENGTH",
    "Advice",
    "Concepts",
    "Document",
    "InterestSyntaxError",
    "Matches",
    "PaperIndex",
    "Reason",
    "Result",
    "Spelling",
    "advise",
    "category_keys",
    "clause_keys",
    "default_concepts",
    "like",
    "match_many",
    "match_papers",
    "same_concept",
    "trending",
    "validate_interest",
]
