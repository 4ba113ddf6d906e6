"""What each interest of a list finds among a window of papers, and what to say about it:
a line that finds nothing (with a spelling it might have meant), and a line that
finds most papers, which is no filter at all.

Pure Python over a PaperIndex: the signup and manage pages' preview and the
admin ask it about the recent papers (digest/recent.py).
"""

from collections.abc import Sequence
from typing import NamedTuple

from digest.matching import like, trending
from digest.matching.engine import PaperIndex
from digest.matching.spelling import Spelling, corrected

# A line that matches at least this share of the papers is too broad...
BROAD_SHARE = 0.5
# ...once there are enough papers for a share to mean something.
MIN_PAPERS_FOR_SHARE = 20


class Advice(NamedTuple):
    """One interest among the papers considered (`considered` of them)."""

    interest: str
    matches: int
    considered: int
    example: str | None  # the id of the paper it ranks first
    suggestion: str | None = None  # for a line that finds nothing: what it might mean
    seed: str | None = None  # for a like line: the canonical id of the paper it names

    @property
    def silent(self) -> bool:
        """Finds nothing by its words; a like line looks for none, so it never is."""
        return self.matches == 0 and self.seed is None

    @property
    def share(self) -> float:
        return self.matches / self.considered if self.considered else 0.0

    @property
    def broad(self) -> bool:
        return self.considered >= MIN_PAPERS_FOR_SHARE and self.share >= BROAD_SHARE


def everything(index: PaperIndex) -> int:
    """The bit set of every paper of the index."""
    return (1 << len(index.papers)) - 1


def advise(
    index: PaperIndex,
    interests: Sequence[str],
    spelling: Spelling,
    *,
    among: int | None = None,
) -> list[Advice]:
    """Each interest's matches among the papers of `index` (only those of the bit set
    `among`, if given: a subscriber's categories), its best paper, and for one that
    matches nothing, a corrected spelling that finds papers or that the thesaurus
    knows; in the order given. `interests` must be valid lines."""
    among = everything(index) if among is None else among
    considered = among.bit_count()
    found = []
    voted: list[int] | None = None
    for interest in interests:
        seed = like.like_id(interest)
        if seed is not None:
            # No words to find: what it follows is said by whoever knows the paper.
            found.append(Advice(interest, 0, considered, None, seed=seed))
            continue
        count = trending.trending_count(interest)
        if count is not None:
            # The most upvoted papers: what a digest of these papers would add.
            if voted is None:
                voted = _by_upvotes(index, among)
            example = index.ids[voted[0]] if voted else None
            found.append(Advice(interest, min(count, len(voted)), considered, example))
            continue
        mask, prominent = index.papers_of(interest)
        mask &= among
        # The ranking of one interest: prominent matches first, then bit order.
        best = (mask & prominent) or mask
        example = index.ids[(best & -best).bit_length() - 1] if best else None
        suggestion = _suggestion(index, interest, spelling, among) if not mask else None
        found.append(Advice(interest, mask.bit_count(), considered, example, suggestion))
    return found


def _by_upvotes(index: PaperIndex, among: int) -> list[int]:
    """The papers of `among` with upvotes, most upvoted first, as places in the index
    (whose order is most upvoted first already)."""
    found = []
    for i, document in enumerate(index.papers.documents):
        if not document.upvotes:
            break
        if among >> i & 1:
            found.append(i)
    return found


def _suggestion(index: PaperIndex, interest: str, spelling: Spelling, among: int) -> str | None:
    correction = corrected(interest, spelling)
    if correction is None:
        return None
    text, words = correction
    mask, _ = index.papers_of(text)
    if mask & among or spelling.thesaurus.issuperset(words):
        # It finds papers, or it is the thesaurus's spelling: worth saying either way.
        return text
    return None
