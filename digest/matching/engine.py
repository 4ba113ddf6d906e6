"""Ranking, and the two ways to match: one subscriber at a time, or many at once.

Ranking, best first: a match in the title (or of an author) above a match in
the abstract only; then more concepts matched above fewer; then rarer
interests above common ones (each interest weighs 1 + log(N / papers it
matched), doubled where the match is prominent); then Hugging Face upvotes;
then the paper id, so the order is stable. Scores are kept in thousandths as
integers, so both paths add them up to exactly the same number.

Interests that look for one concept ("LLMs", "large language models", and
"language models", which includes them) count once for a paper that matches
several of them: the first of them in the subscriber's order counts, with its
weight; the others only add their reasons. Otherwise a paper that says "LLMs"
would rank above every paper that matches one other interest.

`match_papers` is the plain loop: every interest against every paper. The
batch path, `PaperIndex`, analyzes the papers once, finds each distinct
clause's candidates in an inverted index (term -> papers as a bit set, bit i
is the i-th paper in ranking order), and evaluates each distinct interest
once. Per subscriber it then only combines bit sets: when no paper matches
two of the subscriber's interests (most digests), the best `limit` are the
merge of each interest's own best, ranked once per interest; otherwise counts
of matched interests come from a bit-sliced adder, and the best `limit`
papers are taken bucket by bucket without looking at the rest. The two paths
give identical results (a property test checks it). docs/ARCHITECTURE.md
says why so, and how `keep` bounds the memory of a big window.
"""

import gc
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import NamedTuple, Protocol, TypeVar

from digest.matching import like, stored, trending
from digest.matching.concepts import Concepts, default_concepts
from digest.matching.evaluate import (
    PROMINENT,
    AnalyzedDocument,
    Document,
    Hit,
    Reason,
    clause_hit,
    interest_match,
    is_prominent,
    reason,
    score,
)
from digest.matching.evaluated import Evaluated, clause_key
from digest.matching.evaluated import key as evaluated_key
from digest.matching.query import (
    Author,
    Category,
    Clause,
    InterestSyntaxError,
    Phrase,
    Query,
    parse,
)
from digest.matching.stored import storable

K = TypeVar("K", bound=Hashable)
# An index's keys -> bit sets: terms, surnames, (surname, initial), categories.
_Keys = tuple[dict[str, int], dict[str, int], dict[tuple[str, str], int], dict[str, int]]

_UNKNOWN = object()


class StoredSource(Protocol):
    """Stored analyses by paper id, as (stored.key, stored.dumps): a dict, or a reader
    of them that reads only when first asked (digest/analyses.py)."""

    def pop(self, paper_id: str, default: None = None, /) -> tuple[str, bytes] | None: ...


# Results of several interests kept for reuse, at most this many (about 200 bytes each).
_SHARED_RESULTS = 500_000


class Result(NamedTuple):
    document_id: str
    score: float
    reasons: tuple[Reason, ...]


class Matches(NamedTuple):
    results: list[Result]  # the best `limit`, best first
    total: int  # how many papers matched in all


def _parse_or_none(text: str, concepts: Concepts) -> Query | None:
    if trending.is_trending(text):
        return None  # it finds papers by upvotes, not words (compose adds them)
    if like.is_like(text):
        return None  # it names a paper to find papers like, not words (digest/seeds.py)
    try:
        return parse(text, concepts)
    except InterestSyntaxError:
        return None


def queries(interests: Iterable[str], concepts: Concepts) -> list[Query]:
    """The distinct usable queries of a subscriber's interests, in their order.

    An interest that no longer parses (saved before a rule changed) is skipped,
    not fatal: forms and the admin refuse new ones with the reason.
    """
    found: dict[str, Query] = {}
    for text in interests:
        query = _parse_or_none(text, concepts)
        if query is not None:
            found.setdefault(query.text, query)
    return list(found.values())


def clause_keys(interests: Iterable[str], concepts: Concepts | None = None) -> frozenset[str]:
    """The keys (evaluated.clause_key) of the clauses `interests` are made of: what a
    paper's record must hold for a window to evaluate none of them there."""
    concepts = concepts or default_concepts()
    return frozenset(
        clause_key(clause)
        for query in queries(interests, concepts)
        for clause in (*query.required, *query.excluded)
    )


def _concept(query: Query) -> Phrase | None:
    """The one phrase an interest looks for (its exclusions aside), if that is all."""
    if len(query.required) == 1 and isinstance(query.required[0], Phrase):
        return query.required[0] if query.required[0].concept else None
    return None


def same_concept(a: Query, b: Query) -> bool:
    """Whether two interests look for one concept, to be counted once for a paper: one's
    phrase is the other's, or one of its synonyms, acronyms or narrower topics."""
    return _phrases_agree(_concept(a), _concept(b))


def _phrases_agree(first: Phrase | None, second: Phrase | None) -> bool:
    if first is None or second is None:
        return False
    return (
        first.concept == second.concept
        or first.concept in second.alternatives
        or second.concept in first.alternatives
    )


def _weight(matched: int, papers: int) -> int:
    """An interest's weight in thousandths: 1000 plus its rarity, 1000 * log(N / matched)."""
    if not matched:
        return 0
    return 1000 + round(1000 * math.log(papers / matched))


def _unique(documents: Iterable[Document]) -> list[Document]:
    by_id: dict[str, Document] = {}
    for document in documents:
        by_id.setdefault(document.id, document)
    return list(by_id.values())


def match_papers(
    interests: Sequence[str],
    documents: Iterable[Document],
    *,
    limit: int | None = None,
    concepts: Concepts | None = None,
) -> list[Result]:
    """The documents that match any interest, best first: the plain per-subscriber loop."""
    concepts = concepts or default_concepts()
    papers = [AnalyzedDocument(d, concepts) for d in _unique(documents)]
    return match_analyzed(interests, papers, limit=limit, concepts=concepts)


def match_analyzed(
    interests: Sequence[str],
    papers: Sequence[AnalyzedDocument],
    *,
    limit: int | None = None,
    concepts: Concepts | None = None,
) -> list[Result]:
    """`match_papers` over papers analyzed already (distinct ids, each once): the loop
    a sender without the index would run per subscriber, the papers analyzed once."""
    concepts = concepts or default_concepts()
    matched = [
        (q, [interest_match(q, paper) for paper in papers]) for q in queries(interests, concepts)
    ]
    found = [(q, [m and m[0] for m in column]) for q, column in matched]
    weights = [_weight(sum(r is not None for r in column), len(papers)) for _, column in found]
    # For each interest, the earlier ones that look for its concept.
    earlier = [
        [j for j in range(i) if same_concept(found[j][0], query)]
        for i, (query, _) in enumerate(found)
    ]
    ranked = []
    for p, paper in enumerate(papers):
        reasons, concepts_matched, total, prominent = [], 0, 0, False
        for i, ((_, column), weight) in enumerate(zip(found, weights, strict=True)):
            if column[p] is not None:
                reasons.append(column[p])
                prominent = prominent or is_prominent(column[p])
                if any(found[j][1][p] is not None for j in earlier[i]):
                    continue  # its concept is counted already
                concepts_matched += 1
                total += score(weight, is_prominent(column[p]), matched[i][1][p][1])
        if reasons:
            key = (
                not prominent,
                -concepts_matched,
                -total,
                -paper.document.upvotes,
                paper.document.id,
            )
            ranked.append((key, Result(paper.document.id, total / 1000, tuple(reasons))))
    ranked.sort(key=lambda pair: pair[0])
    return [result for _, result in ranked[:limit]]


def _mask_of(bits: list[int]) -> int:
    """The bit set of `bits`, in time linear in its size: a sum of 1 << i would cost
    the set's width for each bit, quadratic in a big window."""
    if not bits:
        return 0
    low = min(bits) & ~7
    found = bytearray(((max(bits) - low) >> 3) + 1)
    for i in bits:
        i -= low
        found[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(found, "little") << low


def _bits(mask: int) -> Iterator[int]:
    """The set bits of `mask`, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class _Interest:
    """One distinct interest evaluated over the index: which papers, where, how heavy."""

    __slots__ = (
        "alone",
        "classes",
        "concept",
        "hits",
        "ids",
        "mask",
        "prominent",
        "query",
        "ranked",
        "reasons",
        "scores",
        "weight",
    )

    def __init__(
        self,
        query: Query,
        mask: int,
        prominent: int,
        loose: int,
        hits: list[dict],
        ids: list[str],
    ) -> None:
        self.query, self.mask, self.prominent, self.hits, self.ids = (
            query,
            mask,
            prominent,
            hits,
            ids,
        )
        self.weight = _weight(mask.bit_count(), len(ids))
        self.concept = _concept(query)
        # The papers of each score (prominent or not, loose or not), highest first.
        self.classes = [
            (part, score(self.weight, is_prominent, is_loose))
            for prominence, is_prominent in ((prominent, True), (~prominent, False))
            for looseness, is_loose in ((~loose, False), (loose, True))
            if (part := mask & prominence & looseness)
        ]
        self.classes.sort(key=lambda pair: -pair[1])
        # paper -> this interest's score there; a dict, as most papers are not in it
        self.scores = {p: points for part, points in self.classes for p in _bits(part)}
        self.reasons: dict[int, Reason] = {}
        # paper -> the Result of a paper that matched this interest alone, shared by
        # every subscriber it is the only match of: most results are such.
        self.alone: dict[int, Result] = {}
        # Its papers in its own ranking order, as (key, Result) of the first ones so far
        # (see `head`), and the keys of all of them.
        self.ranked: tuple[list[int], list[tuple[int, Result]], list[Result]] | None = None

    def head(self, count: int) -> list[tuple[int, Result]]:
        """Its first `count` papers in the order they rank in when each matched this
        interest alone, with a sort key that orders papers of several such interests
        the same way: prominent first, then more points, then bit (tie-break) order."""
        return self._ranked(count)[1][:count]

    def best(self, count: int) -> list[Result]:
        """The Results of `head(count)`."""
        return self._ranked(count)[2][:count]

    def _ranked(self, count: int) -> tuple[list[int], list[tuple[int, Result]], list[Result]]:
        if self.ranked is None:
            # One int a key: prominence, points (below 2**31), bit (below 2**32).
            keys = sorted(
                (0 if self.prominent >> p & 1 else 1 << 64) | (2**31 - points) << 32 | p
                for p, points in self.scores.items()
            )
            self.ranked = (keys, [], [])
        keys, pairs, results = self.ranked
        while len(results) < count and len(results) < len(keys):
            key = keys[len(results)]
            result = self.result_alone(key & 0xFFFFFFFF)
            pairs.append((key, result))
            results.append(result)
        return self.ranked

    def reason(self, paper: int) -> Reason:
        found = self.reasons.get(paper)
        if found is None:
            found = self.reasons[paper] = reason(self.query, [hits[paper] for hits in self.hits])
        return found

    def result_alone(self, paper: int) -> Result:
        found = self.alone.get(paper)
        if found is None:
            score = self.scores[paper] / 1000
            found = self.alone[paper] = Result(self.ids[paper], score, (self.reason(paper),))
        return found


class _Analyses(Sequence[AnalyzedDocument]):
    """The papers' analyses by bit: every one, or the last `keep` made or asked for (about
    100 KB each), any other made again when asked (the evaluation is the same); each
    read back from its `stored` bytes where it has them (stored.py), else made."""

    def __init__(
        self,
        documents: list[Document],
        concepts: Concepts,
        keep: int | None,
        stored: StoredSource | None = None,
    ) -> None:
        self.documents, self.concepts, self.keep = documents, concepts, keep
        self.stored = stored or {}
        self._kept: dict[int, AnalyzedDocument] = {}

    def make(self, i: int) -> AnalyzedDocument:
        """Paper i's analysis, read back from its stored bytes (dropped then: they are
        read once, as the index is built) or made from its text."""
        document = self.documents[i]
        found = self.stored.pop(document.id, None)
        if found is not None and found[0] == stored.key(document):
            return stored.loads(found[1], document)
        return AnalyzedDocument(document, self.concepts)

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, i: int | slice) -> "AnalyzedDocument | list[AnalyzedDocument]":
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self.documents)
        found = self._kept.get(i)
        if found is None:
            if not 0 <= i < len(self.documents):
                raise IndexError(i)
            found = self.make(i)
        self.put(i, found)
        return found

    def put(self, i: int, analysis: AnalyzedDocument) -> None:
        kept = self._kept
        if self.keep is None:
            kept[i] = analysis
            return
        kept.pop(i, None)  # the most recent last: the first one is the one to drop
        kept[i] = analysis
        while len(kept) > self.keep:
            del kept[next(iter(kept))]


# From how many papers indexing pauses the cycle collector (see _collector_paused): a
# small index makes few objects, and the full collection after it would cost more.
PAUSE_COLLECTOR_FROM = 300


@contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    """CPython's cycle collector paused inside (when `pause`; as it was after). Indexing
    makes millions of small containers (tokens, spans, hits) that live until it ends,
    and the collector walked them again and again as they piled up: ~17% of indexing
    2,000 papers. What indexing drops is freed by reference counting (it makes no
    cycles), so memory is the same."""
    enabled = pause and gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            # One pass now ages what was built into the oldest generation, which the
            # collector then walks only when it has grown by a quarter: left young, it
            # would be walked by the next collections of young objects.
            gc.collect()


class PaperIndex:
    """A window of papers analyzed and indexed once, to match many subscribers against.

    `stored`: analyses made before, by paper id, as (stored.key, stored.dumps) of the
    document they were made of: read back instead of analysing the paper again where
    that key is still the document's (the same texts, the same analyser). The dict is
    consumed as the papers are indexed: each one's bytes are dropped once read, so a
    big window holds no more than it did without them (an analysis made again for a
    later interest, beyond `keep`, is made from the text).

    `evaluated`: the papers' records by id (evaluated.py: the clauses evaluated on each
    when it came, and their hits): a clause a paper's record has is taken from it, not
    evaluated again, and a paper whose record has every clause asked is not analysed
    at all (until a clause it lacks is asked). `evaluations()` gives the records.

    `keep` bounds the papers' analyses kept (None: all; ~100 KB each, so a weekly
    window's would take GBs): `interests` known beforehand are evaluated block by
    block of `keep` papers as they are analyzed, and a paper's analysis is made again
    when an interest asked for later needs it, so pass those to `prepare` in bulk
    (each paper analyzed again at most once a call) rather than one by one.
    """

    def __init__(
        self,
        documents: Iterable[Document],
        concepts: Concepts | None = None,
        *,
        interests: Iterable[str] = (),
        keep: int | None = None,
        stored: StoredSource | None = None,
        evaluated: Mapping[str, Evaluated] | None = None,
    ) -> None:
        self.concepts = concepts or default_concepts()
        if (stored or evaluated) and not storable(self.concepts):
            raise ValueError("stored analyses are the default concepts'; these are others")
        # Bit i is the i-th paper in tie-break order: most upvoted first, then by id.
        ordered = sorted(_unique(documents), key=lambda d: (-d.upvotes, d.id))
        self.papers = _Analyses(ordered, self.concepts, keep, stored)
        self.ids = [document.id for document in ordered]
        self._everyone = (1 << len(ordered)) - 1
        # The postings: key -> bit set of the papers that have it, of the papers posted
        # so far (a paper whose record has every clause asked is posted only if a
        # later clause needs it: its analysis is then not even read).
        self.terms: dict[str, int] = {}
        self.surnames: dict[str, int] = {}
        # (surname, the initial of another part of the name): a wanted author's every
        # part must agree with one of the name's, initial first (evaluate.author_matches)
        self.initials: dict[tuple[str, str], int] = {}
        self.categories: dict[str, int] = {}
        self._posted = 0
        self._clauses: dict[Clause, tuple[int, dict[int, Hit]]] = {}
        # Each distinct Hit once: most are alike (the same words in the same field of
        # many papers), and the clauses' hits are most of a big window's memory.
        self._hits: dict[Hit, Hit] = {}
        self._records = self._read(ordered, evaluated or {})
        self._interests: dict[str, _Interest] = {}
        self._by_text: dict[str, _Interest | None] = {}
        # (paper, matched interests) -> Result: subscribers who share interests share results.
        self._shared: dict[tuple[int, ...], Result] = {}
        parsed = {text: _parse_or_none(text, self.concepts) for text in interests}
        pending = {c for q in parsed.values() if q for c in (*q.required, *q.excluded)}
        found: dict[Clause, dict[int, Hit]] = {}
        covered: dict[Clause, int] = {}
        # the papers with a record of every clause asked: with no record, a paper is
        # indexed now, as it would be for the first clause asked later
        everywhere = 0
        for _, papers, _ in self._records:
            everywhere |= papers
        for clause in pending:
            covered[clause], found[clause] = self._known(clause)
            everywhere &= covered[clause]
        # Papers go in blocks of `keep`: each block is indexed, then the known interests'
        # candidates in it (the index so far has every term of the block) are evaluated
        # while its analyses are still kept. Only papers some clause must be evaluated
        # on go in: all of them, but those whose records have every clause asked.
        to_evaluate = [c for c in pending if self._everyone & ~covered[c]]
        todo = list(_bits(self._everyone & ~everywhere))
        with _collector_paused(len(ordered) >= PAUSE_COLLECTOR_FROM):
            self._post(todo, to_evaluate, covered, found)
            self._found(found)
            for text, query in parsed.items():
                self._lookup(text, query)

    def _read(
        self, ordered: list[Document], evaluated: Mapping[str, Evaluated]
    ) -> list[tuple[frozenset[str], int, dict[str, dict[int, Hit]]]]:
        """The papers' records (those made of their texts by this analyser), gathered by
        clause set: (its clauses, its papers as a bit set, clause -> {paper: Hit})."""
        groups: dict[frozenset[str], tuple[frozenset[str], list[int], dict]] = {}
        for i, document in enumerate(ordered):
            record = evaluated.get(document.id)
            if record is None or record.key != evaluated_key(document):
                continue
            group = groups.get(record.clauses)
            if group is None:
                group = groups[record.clauses] = (record.clauses, [], {})
            group[1].append(i)
            by_clause = group[2]
            for name, hit in record.hits.items():
                hit = self._hits.setdefault(hit, hit)
                if (papers := by_clause.get(name)) is None:
                    by_clause[name] = {i: hit}
                else:
                    papers[i] = hit
        return [(clauses, _mask_of(bits), hits) for clauses, bits, hits in groups.values()]

    def _known(self, clause: Clause) -> tuple[int, dict[int, Hit]]:
        """The papers whose records have `clause` (a bit set), and its hits among them
        (taken out of the records: a clause is asked once, then kept in _clauses)."""
        if not self._records:
            return 0, {}
        name = clause_key(clause)
        masks, hits = [], None
        for clauses, papers, by_clause in self._records:
            if name in clauses:
                masks.append(papers)
                found = by_clause.pop(name, None)
                if found and hits:
                    hits.update(found)
                elif found:
                    hits = found
        hits = hits or {}
        covered = masks[0] if len(masks) == 1 else 0
        if len(masks) > 1:
            for mask in masks:
                covered |= mask
        return covered, hits

    def _post(
        self,
        todo: list[int],
        pending: Iterable[Clause] = (),
        covered: Mapping[Clause, int] | None = None,
        found: dict[Clause, dict[int, Hit]] | None = None,
    ) -> None:
        """Index papers `todo` (bits, ascending) block by block of `keep`, evaluating the
        `pending` clauses on each block's candidates but those `covered` already, into
        `found`."""
        block = self.papers.keep or len(todo) or 1
        for start in range(0, len(todo), block):
            chunk = todo[start : start + block]
            analyses = []
            # key -> the block's papers that have it (by place in the block), made one
            # bit set per block: an OR per paper into a window-wide int would cost the
            # window's size each time
            terms: defaultdict[str, list[int]] = defaultdict(list)
            surnames: dict[str, list[int]] = {}
            initials: dict[tuple[str, str], list[int]] = {}
            categories: dict[str, list[int]] = {}
            for j, i in enumerate(chunk):
                paper = self.papers[i]
                analyses.append(paper)
                for term in paper.terms():
                    terms[term].append(j)
                for _, parts in paper.authors:
                    if parts:
                        surname = parts[-1]
                        surnames.setdefault(surname, []).append(j)
                        for given in parts[:-1]:
                            initials.setdefault((surname, given[0]), []).append(j)
                for key in paper.category_keys:
                    categories.setdefault(key, []).append(j)
            # The block's own bit sets (bit j: its j-th paper), for its candidates
            # below: a few machine words each however wide the window.
            contiguous = chunk[-1] - chunk[0] == len(chunk) - 1
            local: list[dict] = []
            for index, postings in (
                (self.terms, terms),
                (self.surnames, surnames),
                (self.initials, initials),
                (self.categories, categories),
            ):
                masks = {key: _mask_of(places) for key, places in postings.items()}
                for key, mask in masks.items():
                    if contiguous:
                        mask <<= chunk[0]
                    else:
                        mask = _mask_of([chunk[j] for j in postings[key]])
                    index[key] = index.get(key, 0) | mask
                local.append(masks)
            self._posted |= _mask_of(chunk)
            keys: _Keys = (local[0], local[1], local[2], local[3])
            for clause in pending:
                hits = found[clause]  # type: ignore[index]
                known = covered[clause]  # type: ignore[index]
                for j in _bits(self._candidates(clause, keys)):
                    i = chunk[j]
                    if known and known >> i & 1:
                        continue
                    hit = clause_hit(clause, analyses[j])
                    if hit is not None:
                        hits[i] = self._hits.setdefault(hit, hit)

    def _unknown(self, clause: Clause) -> tuple[int, dict[int, Hit]]:
        """The papers `clause` must still be evaluated on (posted now, if they were not),
        and its hits on the others, from their records."""
        covered, hits = self._known(clause)
        rest = self._everyone & ~covered
        unposted = rest & ~self._posted
        if unposted:
            todo = list(_bits(unposted))
            with _collector_paused(len(todo) >= PAUSE_COLLECTOR_FROM):
                self._post(todo)
        return rest, hits

    def evaluations(
        self, papers: Iterable[str] | None = None
    ) -> tuple[frozenset[str], dict[str, dict[str, Hit]]]:
        """Every clause evaluated on this index's papers so far (by clause_key), and each
        paper's hits of them, by paper id: what evaluated.Evaluated records hold. Only
        the hits of `papers` (ids of this index's papers) when given: a window records
        the few papers no fetch recorded, not all of them."""
        if papers is None:
            wanted = dict(enumerate(self.ids))
        else:
            bit_of = {paper_id: i for i, paper_id in enumerate(self.ids)}
            wanted = {bit_of[paper_id]: paper_id for paper_id in papers}
        by_paper: dict[int, dict[str, Hit]] = {i: {} for i in wanted}
        names = []
        for clause, (_, hits) in self._clauses.items():
            name = clause_key(clause)
            names.append(name)
            for i, hit in hits.items():
                if (found := by_paper.get(i)) is not None:
                    found[name] = hit
        return frozenset(names), {wanted[i]: found for i, found in by_paper.items()}

    def prepare(self, interests: Iterable[str]) -> None:
        """Evaluate interests not seen yet all at once, paper by paper: what asking for
        each would do, with each paper's analysis made at most once (see `keep`)."""
        interests = list(interests)
        parsed = {
            text: _parse_or_none(text, self.concepts)
            for text in dict.fromkeys(interests)
            if text not in self._by_text
        }
        pending = {
            c
            for q in parsed.values()
            if q
            for c in (*q.required, *q.excluded)
            if c not in self._clauses
        }
        by_paper: dict[int, list[Clause]] = {}
        found: dict[Clause, dict[int, Hit]] = {}
        for clause in pending:
            rest, found[clause] = self._unknown(clause)
            for i in _bits(self._candidates(clause) & rest):
                by_paper.setdefault(i, []).append(clause)
        with _collector_paused(len(by_paper) >= PAUSE_COLLECTOR_FROM):
            for i in sorted(by_paper):
                paper = self.papers[i]
                for clause in by_paper[i]:
                    hit = clause_hit(clause, paper)
                    if hit is not None:
                        found[clause][i] = self._hits.setdefault(hit, hit)
            self._found(found)
            for text, query in parsed.items():
                self._lookup(text, query)

    def _found(self, found: dict[Clause, dict[int, Hit]]) -> None:
        for clause, hits in found.items():
            # hits in bit order, as _clause makes them
            hits = dict(sorted(hits.items()))
            self._clauses[clause] = (_mask_of(list(hits)), hits)

    def _candidates(self, clause: Clause, keys: "_Keys | None" = None) -> int:
        """The papers that may match `clause`: those with its words (any alternative),
        its surname and initials or its category; over `keys` (a block's) if given."""
        terms, surnames, initials, categories = keys or (
            self.terms,
            self.surnames,
            self.initials,
            self.categories,
        )
        if isinstance(clause, Author):
            *given, surname = clause.names
            found = surnames.get(surname, 0)
            for part in given:
                found &= initials.get((surname, part[0]), 0)
            return found
        if isinstance(clause, Category):
            return categories.get(clause.key, 0)
        found = 0
        for alternative in (*clause.alternatives, *clause.heads, *clause.contextual):
            mask = -1
            for term in alternative:
                mask &= terms.get(term, 0)
                if not mask:
                    break
            found |= mask if mask != -1 else 0
        for key in clause.categories:
            found |= categories.get(key, 0)
        return found

    def _clause(self, clause: Clause) -> tuple[int, dict[int, Hit]]:
        cached = self._clauses.get(clause)
        if cached is None:
            rest, hits = self._unknown(clause)
            for i in _bits(self._candidates(clause) & rest):
                hit = clause_hit(clause, self.papers[i])
                if hit is not None:
                    hits[i] = self._hits.setdefault(hit, hit)
            hits = dict(sorted(hits.items()))  # in bit order, as _found makes them
            cached = self._clauses[clause] = (_mask_of(list(hits)), hits)
        return cached

    def _interest(self, query: Query) -> _Interest:
        found = self._interests.get(query.text)
        if found is None:
            required = [self._clause(clause) for clause in query.required]
            mask = -1
            for clause_mask, _ in required:
                mask &= clause_mask
            for clause in query.excluded:
                mask &= ~self._clause(clause)[0]
            mask = max(mask, 0)
            prominent_bits, loose_bits = [], []
            for i in _bits(mask):
                if any(not PROMINENT.isdisjoint(hits[i].fields) for _, hits in required):
                    prominent_bits.append(i)
                if any(hits[i].loose for _, hits in required):
                    loose_bits.append(i)
            prominent, loose = _mask_of(prominent_bits), _mask_of(loose_bits)
            found = _Interest(
                query, mask, prominent, loose, [hits for _, hits in required], self.ids
            )
            self._interests[query.text] = found
        return found

    def _lookup(self, text: str, query: object = _UNKNOWN) -> _Interest | None:
        """The evaluated interest of a line (None: unusable); `query`: its parse, when
        the caller has it already (parsing is a good part of an interest's cost)."""
        interest = self._by_text.get(text, _UNKNOWN)
        if interest is _UNKNOWN:
            if query is _UNKNOWN:
                query = _parse_or_none(text, self.concepts)
            interest = self._by_text[text] = query and self._interest(query)
        return interest

    def papers_of(self, interest: str) -> tuple[int, int]:
        """The papers one interest matches, and those it matches in a title or an author,
        as bit sets over `self.papers` (bit i: the i-th); (0, 0) for an unusable one."""
        found = self._lookup(interest)
        return (found.mask, found.prominent) if found is not None else (0, 0)

    def match(self, interests: Sequence[str], limit: int | None = None) -> Matches:
        """What `match_papers(interests, papers, limit=limit)` gives, and the total."""
        chosen: list[_Interest] = []
        union = overlap = 0
        by_text = self._by_text
        for text in interests:
            interest = by_text.get(text, _UNKNOWN)
            if interest is _UNKNOWN:
                interest = self._lookup(text)
            # Two spellings of one interest ("a  b", "a b") are one _Interest: counted once.
            if interest is not None and interest.mask and interest not in chosen:
                chosen.append(interest)
                overlap |= union & interest.mask
                union |= interest.mask
        if not union:
            return Matches([], 0)
        total = union.bit_count()
        wanted = total if limit is None else min(limit, total)
        if not overlap:
            # No paper matches two of them (most digests): each paper's score is its one
            # interest's, so the best are among each interest's own best `wanted`.
            if len(chosen) == 1:
                return Matches(chosen[0].best(wanted), total)
            merged: list[tuple[int, Result]] = []
            for interest in chosen:
                merged += interest.head(wanted)
            merged.sort()  # keys differ: papers differ
            return Matches([result for _, result in merged[:wanted]], total)
        counted = self._counted(chosen)
        results: list[Result] = []
        for bucket, count in self._buckets(chosen, counted, union):
            results.extend(self._order(bucket, count, chosen, counted, wanted - len(results)))
            if len(results) >= wanted:
                break
        return Matches(results, total)

    @staticmethod
    def _counted(chosen: list[_Interest]) -> list[int]:
        """Where each interest counts: the papers it matches, less those an earlier
        interest of the same concept matches too (see the module's docstring)."""
        counted = []
        for i, interest in enumerate(chosen):
            mask = interest.mask
            if interest.concept is not None:
                for earlier in chosen[:i]:
                    if _phrases_agree(earlier.concept, interest.concept):
                        mask &= ~earlier.mask
            counted.append(mask)
        return counted

    @staticmethod
    def _buckets(
        chosen: list[_Interest], counted: list[int], union: int
    ) -> Iterator[tuple[int, int]]:
        """Papers grouped by (prominent anywhere, number of concepts matched), best first."""
        planes: list[int] = []  # bit-sliced counters: plane j holds bit j of each count
        for carry in counted:
            for j, plane in enumerate(planes):
                planes[j], carry = plane ^ carry, plane & carry
                if not carry:
                    break
            if carry:
                planes.append(carry)
        prominent = 0
        for interest in chosen:
            prominent |= interest.prominent
        for base in (prominent, union & ~prominent):
            for count in range(len(chosen), 0, -1):
                if count >> len(planes):
                    continue  # more than any paper has: the planes cannot even say it
                bucket = base
                for j, plane in enumerate(planes):
                    bucket &= plane if count >> j & 1 else ~plane
                if bucket:
                    yield bucket, count

    def _order(
        self, bucket: int, count: int, chosen: list[_Interest], counted: list[int], need: int
    ) -> list[Result]:
        """The best `need` papers of one bucket, best first."""
        if count == 1:
            # Each paper counts exactly one interest: its score is that interest's there,
            # so interests go heaviest first, and papers within one in bit (tie-break)
            # order. Papers another interest of the same concept matched as well
            # (`shadowed`) carry every reason; the others share one Result per paper.
            groups: dict[int, list[tuple[_Interest, int]]] = {}
            shadowed = 0
            for interest, mask in zip(chosen, counted, strict=True):
                shadowed |= interest.mask & ~mask
                part = bucket & mask
                for members, points in interest.classes:
                    if share := part & members:
                        groups.setdefault(points, []).append((interest, share))
            best: list[Result] = []
            for points in sorted(groups, reverse=True):
                members = groups[points]
                mask = 0
                for _, part in members:
                    mask |= part
                while mask:  # lowest bit first: the tie-break order
                    low = mask & -mask
                    mask ^= low
                    paper = low.bit_length() - 1
                    if len(members) == 1:
                        owner = members[0][0]
                    else:
                        owner = next(i for i, part in members if part & low)
                    if low & shadowed:
                        best.append(self._result(paper, chosen, points))
                    else:
                        best.append(owner.result_alone(paper))
                    if len(best) == need:
                        return best
            return best
        tables = [
            interest.scores
            if mask == interest.mask
            else {p: interest.scores[p] for p in _bits(mask)}
            for interest, mask in zip(chosen, counted, strict=True)
        ]
        scored = []
        while bucket:
            low = bucket & -bucket
            bucket ^= low
            paper = low.bit_length() - 1
            scored.append((-sum([table[paper] for table in tables if paper in table]), paper))
        scored.sort()
        return [self._result(paper, chosen, -negated) for negated, paper in scored[:need]]

    def _result(self, paper: int, chosen: list[_Interest], total: int) -> Result:
        """The Result of a paper with every interest it matched; shared by subscribers
        whose matches there are the same interests in the same order."""
        matched = tuple([i for i in chosen if paper in i.scores])
        key = (paper, *map(id, matched))
        result = self._shared.get(key)
        if result is None:
            reasons = tuple([i.reason(paper) for i in matched])
            result = Result(self.ids[paper], total / 1000, reasons)
            if len(self._shared) < _SHARED_RESULTS:
                self._shared[key] = result
        return result


def match_many(
    subscribers: Mapping[K, Sequence[str]],
    documents: Iterable[Document],
    *,
    limit: int | None = None,
    concepts: Concepts | None = None,
) -> Iterator[tuple[K, Matches]]:
    """Each subscriber's matches among the same documents, indexed once."""
    everyone = [text for interests in subscribers.values() for text in interests]
    index = PaperIndex(documents, concepts, interests=everyone)
    for key, interests in subscribers.items():
        yield key, index.match(interests, limit)
