"""Does a clause, or a whole interest, match one analyzed paper, and on which words?

Used by both paths of the engine: the plain per-subscriber loop calls it on
every paper, the batch path only on the candidates its index finds. So the
two can differ only in which papers they ask about, never in the answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import NamedTuple, Protocol

from digest.matching import about
from digest.matching.analysis import (
    Ends,
    Field,
    definitions,
    ends_of,
    enrich,
    other_senses,
    tokenize,
)
from digest.matching.concepts import Concepts, category_keys
from digest.matching.query import Author, Category, Clause, Phrase, Query, normalize_name

FIELD_ORDER = ("title", "abstract", "authors", "categories")
# Where a match counts as prominent: ranked above matches in the abstract only.
PROMINENT = frozenset({"title", "authors"})


@dataclass(frozen=True)
class Document:
    """The text of one paper, as the engine sees it."""

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    upvotes: int = 0

    @classmethod
    def of(cls, paper: "PaperLike") -> "Document":
        """The Document of a paper from anywhere: a Paper row, a feed's PaperRecord."""
        return cls(
            id=paper.canonical_id,
            title=paper.title,
            abstract=paper.abstract,
            authors=tuple(paper.authors),
            categories=tuple(paper.categories),
            upvotes=paper.upvotes or 0,
        )


class PaperLike(Protocol):
    canonical_id: str
    title: str
    abstract: str
    authors: Sequence[str]
    categories: Sequence[str]
    upvotes: int | None


class Reason(NamedTuple):
    """One interest that matched, the words it matched and where."""

    interest: str
    matched: tuple[str, ...]  # as written in the paper: "Mixture-of-Experts", "LLMs"
    fields: tuple[str, ...]  # of FIELD_ORDER


class Hit(NamedTuple):
    fields: frozenset[str]
    words: tuple[str, ...]
    # only with words inside the phrase or a title's head alone: ranked below the phrase
    loose: bool = False


class AnalyzedDocument:
    """A paper's fields analyzed once, for every interest to ask about."""

    __slots__ = ("authors", "categories", "category_keys", "document", "fields")

    def __init__(self, document: Document, concepts: Concepts) -> None:
        self.document = document
        texts = {"title": document.title, "abstract": document.abstract}
        self.fields: dict[str, Field] = {
            n: Field(t, tokenize(t, opaque=True)) for n, t in texts.items()
        }
        # Definitions hold for the whole paper: "(MoE)" in the abstract explains the title.
        local = {k: v for f in self.fields.values() for k, v in definitions(f).items()}
        senses = other_senses(self.fields.values(), concepts)
        for field in self.fields.values():
            enrich(field, concepts, local, senses)
            _connect(field)
        self._describe(document)

    @classmethod
    def of_fields(cls, document: Document, fields: dict[str, Field]) -> "AnalyzedDocument":
        """The analysis of `document` whose title and abstract `fields` were analyzed
        before (digest/matching/stored.py reads them back)."""
        analysis = cls.__new__(cls)
        analysis.document, analysis.fields = document, fields
        analysis._describe(document)
        return analysis

    def _describe(self, document: Document) -> None:
        self.authors = [(name, normalize_name(name)) for name in document.authors]
        self.categories = [category.lower() for category in document.categories]
        self.category_keys = {key for c in self.categories for key in category_keys(c)}

    def terms(self) -> set[str]:
        found: set[str] = set()
        for field in self.fields.values():
            found.update(field.spans)
        return found


# Words that, hyphened to the word before, make it a modifier without changing what
# it names: "LLM-based agents" and "LLM-driven agents" are LLM agents, "a
# diffusion-based generative model" is a diffusion generative model.
CONNECTORS = frozenset({"based", "driven", "powered", "empowered", "enabled"})


def _connect(field: Field) -> None:
    """Let every term that ends just before a hyphened connector ("LLM-based",
    "large language model (LLM)-based") also end after it, so a phrase finds
    "LLM-based agents" as it finds "LLM agents"."""
    tokens = field.tokens
    # where a term must end to be joined to a connector -> where it then also ends
    joined = {
        before.position + 1: token.position + 1
        for before, token in pairwise(tokens)
        if token.folded in CONNECTORS
        and field.text[before.end : token.start] in ("-", ")-")  # "(LLM)-based"
    }
    if not joined:
        return
    for ends_at in field.spans.values():
        for start, ends in ends_at.items():
            if type(ends) is int:
                if ends in joined and joined[ends] != ends:
                    ends_at[start] = [ends, joined[ends]]  # a value replaced: no key added
            else:
                ends.extend(
                    [joined[end] for end in ends if end in joined and joined[end] not in ends]
                )


def _chains(field: Field, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans where `terms` follow one another, each starting where the last ended."""
    first = field.spans.get(terms[0])
    if not first:
        return []
    rest = [field.spans.get(term) for term in terms[1:]]
    if not all(rest):
        return []
    found = []
    if len(rest) == 1:  # two terms, most phrases
        return _pair_chains(first, rest[0], reach_wanted=False)[0]
    for start, ends in first.items():
        frontier = list(ends_of(ends))
        for following in rest:
            frontier = [
                end for position in frontier for end in ends_of(following.get(position, ()))
            ]
            if not frontier:
                break
        found.extend((start, end) for end in frontier)
    return found


def _within_reach(first: dict[int, Ends], second: dict[int, Ends], low: int) -> bool:
    """Whether the second term starts `low` to MAX_INSIDE words after an end of the first
    (plain loops: a generator's frames cost more than the test, asked of most candidates)."""
    for ends in first.values():
        for end in (ends,) if type(ends) is int else ends:
            for gap in range(low, about.MAX_INSIDE + 1):
                if end + gap in second:
                    return True
    return False


# The gaps a word inside a two-term phrase leaves: 1 to MAX_INSIDE.
_INSIDE = tuple(range(1, about.MAX_INSIDE + 1))


def _pair_chains(
    first: dict[int, Ends], second: dict[int, Ends], reach_wanted: bool = True
) -> tuple[list[tuple[int, int]], bool]:
    """_chains of two terms (their spans `first`, `second`), and (when `reach_wanted`)
    whether the second starts within reach of the first for a loose chain
    (_within_reach), in one pass over the first's ends: two-term phrases are most
    alternatives."""
    found: list[tuple[int, int]] = []
    reach = not reach_wanted
    get = second.get
    for start, ends in first.items():
        for end in (ends,) if type(ends) is int else ends:
            if (following := get(end)) is not None:
                if type(following) is int:
                    found.append((start, following))
                else:
                    found += [(start, last) for last in following]
            if not reach:
                for gap in _INSIDE:
                    if end + gap in second:
                        reach = True
                        break
    return found, reach


def _loose_chains(
    field: Field, terms: tuple[str, ...], reached: bool = False
) -> list[tuple[int, int]]:
    """Spans where `terms` follow one another with up to MAX_INSIDE modifier words
    inside ("diffusion language models", "LLM-based multi-agent"), at least one;
    the spans without any are _chains'. `reached`: _within_reach is known true."""
    first = field.spans.get(terms[0])
    rest = [field.spans.get(term) for term in terms[1:]]
    if not first or not all(rest):
        return []
    # Most candidates have the words far apart: none of the first's ends is within
    # MAX_INSIDE words before the second's start (for two terms, with a word inside:
    # the words in a row are _chains'), so nothing below can reach the second.
    if not reached and not _within_reach(first, rest[0], 1 if len(rest) == 1 else 0):
        return []
    shape = None  # the field's layout, made when a gap has to be read
    found = []
    for start, ends in first.items():
        frontier = [(end, False) for end in ends_of(ends)]  # (position, words inside so far)
        for number, following in enumerate(rest, 2):
            last = number == len(terms)
            reached = []
            for position, inside in frontier:
                reached += [(end, inside) for end in ends_of(following.get(position, ()))]
                # Gaps the next term could close; words inside are read only up to them.
                gaps = [g for g in range(1, about.MAX_INSIDE + 1) if position + g in following]
                if not gaps:
                    continue
                shape = shape or about.layout(field)
                for gap in range(1, gaps[-1] + 1):
                    if not about.fills(shape, position + gap - 1):
                        break
                    if gap not in gaps:
                        continue
                    if last and about.another_task(shape, position - 1, position + gap - 1):
                        continue
                    reached += [(end, True) for end in ends_of(following[position + gap])]
            frontier = reached
            if not frontier:
                break
        found.extend((start, end) for end, inside in frontier if inside)
    return list(dict.fromkeys(found))


def _head_counts(paper: AnalyzedDocument, terms: tuple[str, ...], start: int, end: int) -> bool:
    """Whether a title's head alone counts there: it stands for the topic there
    (about.head_stands), and the abstract, if any, uses it too: one word alone is
    ambiguous ("visual attention" of psychophysics, whose abstract speaks of saliency)."""
    if not about.head_stands(about.layout(paper.fields["title"]), start, end):
        return False
    abstract = paper.fields["abstract"]
    return not abstract.tokens or bool(_chains(abstract, terms))


# A Mention without namedtuple's Python-level constructor: made for every chain found.
_mention = partial(tuple.__new__, about.Mention)


def _phrase_hit(clause: Phrase, paper: AnalyzedDocument) -> Hit | None:
    mentions: list[about.Mention] = []
    exact, narrower = clause.exact, clause.narrower
    for name, field in paper.fields.items():
        spans = field.spans
        # Most of an interest's alternatives name a word this field lacks: skip them here
        # (a term's spans are never empty; most alternatives fail on their first term).
        has = spans.__contains__
        present = [
            terms for terms in clause.alternatives if terms[0] in spans and all(map(has, terms))
        ]
        # the present alternatives a loose chain may join, and whether within reach is known
        loose: list[tuple[tuple[str, ...], bool]] = []
        for terms in present:
            if len(terms) == 2 and not exact:
                found, reach = _pair_chains(spans[terms[0]], spans[terms[1]])
                if reach:
                    loose.append((terms, True))
            else:
                found = _chains(field, terms)
                if len(terms) > 1:
                    loose.append((terms, False))
            if not found:
                continue
            is_narrower = terms in narrower
            for start, end in found:
                if exact:
                    folded = tuple(t.folded for t in field.tokens if start <= t.position < end)
                    if folded != exact:
                        continue
                mentions.append(_mention((name, start, end, 0, is_narrower)))
        if exact:
            continue
        for terms, reached in loose:
            mentions += [
                _mention((name, start, end, 1, False))
                for start, end in _loose_chains(field, terms, reached)
            ]
        if name == "title":
            for terms in clause.heads:
                mentions += [
                    _mention((name, start, end, 1, False))
                    for start, end in _chains(field, terms)
                    if _head_counts(paper, terms, start, end)
                ]
    if not mentions and not clause.contextual and not clause.categories:
        return None  # most candidates: nothing below could find a field
    if mentions and not clause.exact:
        written = clause.text.rsplit(None, 1)[-1].casefold()
        if about.may_name_a_device(written):
            mentions = [
                m
                for m in mentions
                if not about.names_a_device(about.layout(paper.fields[m.field]), m.end, written)
            ]
    fields, words = set(), []
    kept = about.counted(mentions, paper.fields) if mentions else []
    if not kept and clause.contextual and _has_context(clause, paper):
        kept = about.counted_in_context(_context_mentions(clause, paper), paper.fields)
    for mention in kept:
        fields.add(mention.field)
        words.append(paper.fields[mention.field].surface(mention.start, mention.end))
    loose = not any(mention.strength == 0 for mention in kept)
    matched_categories = (
        [c for c in paper.categories if paper_has(c, clause.categories)]
        if clause.categories
        else None
    )
    if matched_categories:
        fields.add("categories")
        words.extend(matched_categories)
        loose = False
    return Hit(frozenset(fields), tuple(words), loose) if fields else None


def _has_context(clause: Phrase, paper: AnalyzedDocument) -> bool:
    return any(_chains(field, terms) for field in paper.fields.values() for terms in clause.context)


def _context_mentions(clause: Phrase, paper: AnalyzedDocument) -> list[about.Mention]:
    return [
        about.Mention(name, *span, 2)
        for name, field in paper.fields.items()
        for terms in clause.contextual
        for span in _chains(field, terms)
    ]


def paper_has(category: str, keys: tuple[str, ...]) -> bool:
    return any(key in category_keys(category) for key in keys)


def _names_agree(wanted: str, given: str) -> bool:
    # "y" agrees with "yann", "yann" with "yann"; not "yan" with "yann".
    if len(wanted) == 1 or len(given) == 1:
        return wanted[0] == given[0]
    return wanted == given


def author_matches(wanted: tuple[str, ...], name: tuple[str, ...]) -> bool:
    """Surname equal, every other part of `wanted` agreeing with one of `name`'s."""
    if not name or wanted[-1] != name[-1]:
        return False
    return all(any(_names_agree(part, given) for given in name[:-1]) for part in wanted[:-1])


def clause_hit(clause: Clause, paper: AnalyzedDocument) -> Hit | None:
    if isinstance(clause, Phrase):
        return _phrase_hit(clause, paper)
    if isinstance(clause, Author):
        names = [shown for shown, parts in paper.authors if author_matches(clause.names, parts)]
        return Hit(frozenset({"authors"}), tuple(names)) if names else None
    if isinstance(clause, Category):
        found = [c for c in paper.categories if clause.key in category_keys(c)]
        return Hit(frozenset({"categories"}), tuple(found)) if found else None
    raise TypeError(f"not a clause: {clause!r}")


def reason(query: Query, hits: list[Hit]) -> Reason:
    """The Reason of an interest from the hits of its required clauses."""
    fields = frozenset().union(*(hit.fields for hit in hits))
    seen: dict[str, str] = {}
    for hit in hits:
        for word in hit.words:
            seen.setdefault(word.casefold(), word)
    ordered = tuple(name for name in FIELD_ORDER if name in fields)
    return Reason(query.text, tuple(seen.values()), ordered)


def interest_match(query: Query, paper: AnalyzedDocument) -> tuple[Reason, bool] | None:
    """Why `paper` matches `query`, and whether only loosely (a required phrase with
    words inside or a title's head alone), or None: every required clause, no
    excluded one."""
    hits = []
    for clause in query.required:
        hit = clause_hit(clause, paper)
        if hit is None:
            return None
        hits.append(hit)
    if any(clause_hit(clause, paper) for clause in query.excluded):
        return None
    return reason(query, hits), any(hit.loose for hit in hits)


def interest_reason(query: Query, paper: AnalyzedDocument) -> Reason | None:
    """Why `paper` matches `query`, or None: every required clause, no excluded one."""
    found = interest_match(query, paper)
    return found[0] if found else None


def score(weight: int, prominent: bool, loose: bool) -> int:
    """An interest's score for one paper in thousandths: its weight, doubled where the
    match is prominent, halved where it is loose (ranked below the phrase itself)."""
    return weight * (2 if prominent else 1) // (2 if loose else 1)


def is_prominent(found: Reason) -> bool:
    return not PROMINENT.isdisjoint(found.fields)
