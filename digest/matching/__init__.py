"""Which papers match a subscriber's interests, ranked, and why.

Pure Python, no Django: the engine can be tested and benchmarked alone.

- `query`: the interest language (phrases, acronyms, "exact", -exclusions,
  author:, cat:, AND) and its errors, InterestSyntaxError.
- `analysis`: words to stems and terms, with hyphen compounds, acronyms and a
  paper's own definitions; `concepts` (+ concepts.toml): the vocabulary.
- `evaluate`: does an interest match one paper, on which words, where.
- `engine`: ranking; `match_papers` for one subscriber, `match_many` /
  `PaperIndex` for many at once with identical results.
"""

from digest.matching.concepts import Concepts, default_concepts
from digest.matching.engine import Matches, PaperIndex, Result, match_many, match_papers
from digest.matching.evaluate import Document, Reason, category_keys
from digest.matching.query import MAX_INTEREST_LENGTH, InterestSyntaxError, parse


def validate_interest(text: str) -> str:
    """The interest tidied up (whitespace folded), or InterestSyntaxError saying why not."""
    return parse(text, default_concepts()).text


__all__ = [
    "MAX_INTEREST_LENGTH",
    "Concepts",
    "Document",
    "InterestSyntaxError",
    "Matches",
    "PaperIndex",
    "Reason",
    "Result",
    "category_keys",
    "match_many",
    "match_papers",
    "validate_interest",
]
