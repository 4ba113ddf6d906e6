"""Spelling corrections for interests that find nothing: "reinforcment learning" ->
"reinforcement learning".

The words a correction may offer are those of the papers at hand (a word more
papers use is preferred) and of the thesaurus (concepts.toml). A word is left
alone when it, or another word with its stem, is known, when it is short (an
acronym, "RL"), has digits, or is written in capitals; only the words an
interest looks for in titles and abstracts are corrected, never its fields
or exclusions.

Candidates are found with a deletion index (each known word, and its stem,
filed under itself and every spelling with one letter left out, as is the
word asked about), which finds every word one edit away and most two edits
away ("transfromers") without comparing the word with the whole vocabulary.
"""

from collections import Counter
from collections.abc import Iterable, Mapping

from digest.matching.analysis import stem, tokenize
from digest.matching.concepts import Concepts
from digest.matching.query import searched_spans

# Words shorter than this are never corrected: acronyms and short words have too
# many neighbours one letter away.
MIN_LENGTH = 4
# Up to this length one edit is allowed, beyond it two.
ONE_EDIT_UP_TO = 5


def _deletions(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def edit_distance(first: str, second: str, limit: int) -> int:
    """Optimal string alignment distance (insertions, deletions, substitutions and
    swaps of neighbours), or `limit + 1` as soon as it is sure to exceed `limit`."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    two_back: list[int] = []
    previous = list(range(len(second) + 1))
    for i in range(1, len(first) + 1):
        current = [i] + [0] * len(second)
        for j in range(1, len(second) + 1):
            value = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (first[i - 1] != second[j - 1]),
            )
            if i > 1 and j > 1 and first[i - 1] == second[j - 2] and first[i - 2] == second[j - 1]:
                value = min(value, two_back[j - 2] + 1)
            current[j] = value
        if min(current) > limit:  # rows never get smaller: it can only grow from here
            return limit + 1
        two_back, previous = previous, current
    return min(previous[-1], limit + 1)


class Spelling:
    """The known words: `counts` maps each folded word to how many papers use it;
    `thesaurus`, the words of concepts.toml, known whether papers use them or not."""

    def __init__(self, counts: Mapping[str, int], thesaurus: Iterable[str] = ()) -> None:
        self.thesaurus = frozenset(thesaurus)
        self.counts = {word: 0 for word in self.thesaurus} | dict(counts)
        self.stems = {stem(word) for word in self.counts}
        self._index: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) >= MIN_LENGTH - 1 and word.isalpha():
                for key in _deletions(word) | _deletions(stem(word)):
                    self._index.setdefault(key, []).append(word)

    @classmethod
    def of(cls, texts: Iterable[Iterable[str]], concepts: Concepts) -> "Spelling":
        """The words of some papers (each the texts of one paper) and of the thesaurus."""
        counts: Counter[str] = Counter()
        for paper in texts:
            counts.update({token.folded for text in paper for token in tokenize(text)})
        return cls(counts, concepts.words)

    def knows(self, word: str) -> bool:
        folded = word.casefold()
        return folded in self.counts or stem(folded) in self.stems

    def closest(self, word: str) -> str | None:
        """The known word closest to an unknown one, or None when none is close enough."""
        folded = word.casefold()
        stemmed = stem(folded)
        limit = 1 if len(folded) <= ONE_EDIT_UP_TO else 2
        keys = _deletions(folded) | _deletions(stemmed)
        candidates = {known for key in keys for known in self._index.get(key, ())}
        ranked = sorted(
            (
                min(
                    edit_distance(folded, known, limit),
                    edit_distance(stemmed, stem(known), limit),
                ),
                -self.counts[known],
                known,
            )
            for known in candidates
            if stem(known) != stemmed
        )
        if ranked and ranked[0][0] <= limit:
            return ranked[0][2]
        return None


def _correctable(word: str) -> bool:
    capitals = sum(c.isupper() for c in word)
    return len(word) >= MIN_LENGTH and word.isalpha() and capitals < 2


def _as_written(correction: str, original: str) -> str:
    return correction.capitalize() if original[:1].isupper() else correction


def corrected(interest: str, spelling: Spelling) -> tuple[str, tuple[str, ...]] | None:
    """The interest with each unknown word it looks for replaced by the closest known
    one, and the words put in; None when there is nothing to correct.

    `interest` must be valid (it went through the language's validation)."""
    tidy = " ".join(interest.split())
    out, used, last = [], [], 0
    for start, end in searched_spans(tidy):
        word = tidy[start:end]
        if not _correctable(word) or spelling.knows(word):
            continue
        replacement = spelling.closest(word)
        if replacement is None:
            continue
        if word[-1:] in "sS" and replacement[-1:] != "s" and replacement + "s" in spelling.counts:
            replacement += "s"  # "modles" -> "models", as it was meant
        out += [tidy[last:start], _as_written(replacement, word)]
        used.append(replacement)
        last = end
    if not used:
        return None
    return "".join([*out, tidy[last:]]), tuple(used)
