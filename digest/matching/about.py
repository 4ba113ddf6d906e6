"""Is a paper about what an interest names, or does it only mention it?

A paper is in a digest because it is about the interest: it says so in its title,
in a sentence that says what the paper itself does ("we propose …", "this paper
…", "here we …"), or in more than one sentence. One background sentence that
names the topic ("… are fundamental to our understanding of dark matter"), an
example ("for example, kilonovae accompanying gravitational waves") or a negated
mention ("without reinforcement learning", "no RL", "does not require …",
"RL-free") does not make it so.

Pure functions over an analyzed field (analysis.Field): its sentences and what
each mention's neighbours say, computed once per field when first asked.
"""

import re
from itertools import pairwise
from typing import NamedTuple

from digest.matching.analysis import Field

# Words that negate what follows them within a few words of one clause.
NEGATIONS = frozenset({"without", "no", "not", "never", "neither", "nor", "unlike", "non"})
# ... and "rather than X", "instead of X".
_NEGATING_PAIRS = frozenset({("rather", "than"), ("instead", "of")})
# How many words before a mention a negation reaches: "does not require any RL".
NEGATION_REACH = 4
# Words that say a mention is an example of something else, just before it.
_EXAMPLE_PAIRS = frozenset({("for", "example"), ("for", "instance"), ("such", "as"), ("e", "g")})
_EXAMPLE_WORDS = frozenset({"including", "like"})
EXAMPLE_REACH = 6
# A sentence that says what the paper itself does.
_OWN_WORDS = frozenset({"we", "our", "us", "ours", "herein", "here"})
_OWN_AFTER_THIS = frozenset(
    {"paper", "work", "study", "article", "letter", "thesis", "chapter", "manuscript"}
    | {"report", "contribution", "review", "survey", "note", "proceeding"}
)
# "our understanding of X" is everyone's, not the paper's own work.
_NOT_OWN_AFTER = frozenset({"understanding", "knowledge", "view", "picture", "current"})
# A mention that is one of several things named: "X, Y and Z", "both A and X".
_COORDINATING = frozenset({"and", "or", "nor"})
# Where a sentence ends: . ! or ? (and any closing quote or bracket), then space.
_END = re.compile(r"[.!?][\"')\]]*\s")
_ABBREVIATIONS = frozenset({"e", "g", "i", "al", "fig", "figs", "eq", "eqs", "vs", "etc", "cf"})


class Mention(NamedTuple):
    field: str  # "title" or "abstract"
    start: int  # positions in that field, end exclusive
    end: int
    strength: int  # 0: the phrase as it is; 1: words inside or a title's head alone


class Layout:
    """A field's sentences and the words around each position."""

    __slots__ = ("commas", "folded", "own", "sentence")

    def __init__(self, field: Field) -> None:
        tokens, text = field.tokens, field.text
        self.folded: dict[int, str] = {t.position: t.folded for t in tokens}
        self.sentence: dict[int, int] = {}
        self.commas: set[int] = set()  # positions of words a comma follows
        own: list[bool] = [False]
        number = 0
        for i, token in enumerate(tokens):
            if i and "," in text[tokens[i - 1].end : token.start]:
                self.commas.add(tokens[i - 1].position)
            if i and _END.search(text[tokens[i - 1].end : token.start]):
                previous = tokens[i - 1].folded
                starts = token.folded[:1].isdigit() or text[token.start].isupper()
                if starts and previous not in _ABBREVIATIONS and len(previous) > 1:
                    number += 1
                    own.append(False)
            self.sentence[token.position] = number
            word = token.folded
            following = tokens[i + 1].folded if i + 1 < len(tokens) else ""
            if (word in _OWN_WORDS and following not in _NOT_OWN_AFTER) or (
                word in _OWN_AFTER_THIS and i and tokens[i - 1].folded == "this"
            ):
                own[number] = True
        self.own = own

    def word(self, position: int) -> str | None:
        return self.folded.get(position)

    def _before(self, start: int, reach: int) -> list[str]:
        """The words before `start` in its clause (no punctuation between), nearest last."""
        words: list[str] = []
        position = start - 1
        while position >= 0 and len(words) < reach:
            word = self.folded.get(position)
            if word is None:
                break
            words.append(word)
            position -= 1
        return words[::-1]

    def negated(self, start: int, end: int) -> bool:
        """ "without RL", "no reinforcement learning", "does not require RL", "RL-free"."""
        before = self._before(start, NEGATION_REACH)
        for i, word in enumerate(before):
            following = before[i + 1] if i + 1 < len(before) else self.folded.get(start)
            if word in NEGATIONS and following not in ("only", "just", "merely", "least"):
                return True
            if (word, following) in _NEGATING_PAIRS:
                return True
        return self.folded.get(end) == "free"

    def listed(self, start: int, end: int) -> bool:
        """ "dark matter, galaxy formation and …", "both dense and MoE models": one of
        several things a sentence names."""
        return (
            self.folded.get(end) in _COORDINATING
            or self.folded.get(start - 1) in _COORDINATING
            or end - 1 in self.commas
        )

    def example(self, start: int) -> bool:
        """ "for example, X", "such as X", "e.g. X", "including X": X is an example."""
        before = self._before(start, EXAMPLE_REACH)
        if any(word in _EXAMPLE_WORDS for word in before[-3:]):
            return True
        pairs = pairwise(before)
        # "for example, X" has a comma: look past one hole too.
        farther = self._before(start - len(before) - 1, 3) if len(before) < EXAMPLE_REACH else []
        pairs_far = pairwise(farther)
        return any(pair in _EXAMPLE_PAIRS for pair in (*pairs, *pairs_far))


# Words a phrase may not have inside it: "models of diffusion" is not "diffusion models".
_NOT_INSIDE = frozenset(
    {"a", "an", "and", "or", "but", "for", "from", "in", "of", "on", "the", "to", "with"}
    | {"by", "as", "at", "is", "are", "was", "were", "be", "been", "via", "into", "over"}
    | {"under", "between", "than", "that", "which", "its", "their", "this", "these"}
    | {"we", "our", "it", "they", "can", "may", "not", "no", "without", "using", "use"}
    | {"used", "both", "such", "other", "than", "also", "while", "where", "when"}
)
# How many words a phrase may have inside it: "LLM-based multi-agent systems".
MAX_INSIDE = 2


def fills(shape: "Layout", position: int) -> bool:
    """Whether the word at `position` may stand inside a phrase: a modifier, not a
    function word, a verb's -s form ("diffusion improves models") or punctuation."""
    word = shape.folded.get(position)
    if word is None or word in _NOT_INSIDE or word in NEGATIONS:
        return False
    return not (word.endswith("s") and not word.endswith(("ss", "us", "is")))


def layout(field: Field) -> Layout:
    found = field.layout
    if found is None:
        found = field.layout = Layout(field)
    return found


def counted(mentions: list[Mention], fields: dict[str, Field]) -> list[Mention]:
    """The mentions that make the paper about the phrase; none if it only mentions it.

    Negated mentions never count. A title mention counts, and with it every other;
    else the abstract's count if they are in two sentences or more, or in one that
    says what the paper does (or its first), not as an example or one of a list."""
    kept = []
    for mention in mentions:
        if not layout(fields[mention.field]).negated(mention.start, mention.end):
            kept.append(mention)
    if any(m.field == "title" for m in kept):
        return kept
    abstract = [m for m in kept if m.field == "abstract" and m.strength == 0]
    if not abstract:
        return []
    shape = layout(fields["abstract"])
    sentences = {shape.sentence.get(m.start, 0) for m in abstract}
    if len(sentences) >= 2:
        return abstract
    (sentence,) = sentences
    if (sentence == 0 or shape.own[sentence]) and not all(
        shape.example(m.start) or shape.listed(m.start, m.end) for m in abstract
    ):
        return abstract
    return []
