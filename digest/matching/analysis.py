"""From text to terms: the words of a paper (or an interest) as the engine compares them.

Every word becomes a *stem* ("models", "modelling", "modeled" -> "model"), so
inflections match. Each term of a text field is kept with its span of
positions, so a phrase is found by chaining spans: "diffusion models" matches
where a "diffusion" span ends where a "model" span starts.

Besides the words themselves a field gets *virtual terms*:

- a hyphenated run ("pre-training", "Mixture-of-Experts") also yields its
  words glued together ("pretrain", "mixtureofexpert"), so an interest written
  with a hyphen, a space or nothing between the words matches all three;
- a known long form ("large language models") and the acronym written as one
  ("LLMs", not "llms" or "Moe") yield the concept term ("#llm") over their
  span, so an acronym and its long form are one concept;
- the paper's own definitions ("Sparse Token Routing (STR)") do the same for
  that paper, and each later "STR" also yields the glued long form.

Punctuation between two words breaks a phrase: "language. Models" is not
"language models".
"""

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from digest.matching.concepts import Concepts, concept_term
from digest.matching.forms import family

_TOKEN = re.compile(r"[^\W_]+")
# Separators that keep words in one phrase: spaces, and hyphens or slashes
# inside a compound ("pre-training", "encoder/decoder").
_JOINING = re.compile(r"^[\s\-\u2010\u2011\u2012\u2013/]*$")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013")
# Schwartz & Hearst style definitions: "words words (ACR)" or "(ACRs)".
_DEFINITION = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{1,9}?)(s?)\s*\)")
_STOPWORDS = frozenset({"a", "an", "and", "for", "from", "in", "of", "on", "the", "to", "with"})
_MAX_COMPOUND = 4
_VOWELS = frozenset("aeiouy")


def fold(text: str) -> str:
    """Lower case without accents: "Schrödinger" -> "schrodinger"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _has_vowel(text: str) -> bool:
    return any(c in _VOWELS for c in text)


def _undouble(word: str) -> str:
    # "modell" -> "model", "embedd" -> "embed", "runn" -> "run"; "pass", "fill" too,
    # which is harmless: the same rule runs on both sides.
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        return word[:-1]
    return word


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English stemmer for plurals, -ing and -ed (words are already folded).

    Conservative on purpose: short words and acronyms ("gan", "rl") stay as
    they are, and a suffix is only removed when a stem with a vowel remains.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses") or word.endswith(("ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and not word.endswith("eed"):
            rest = word[: -len(suffix)]
            if len(rest) >= 3 and _has_vowel(rest):
                word = _undouble(rest)
                break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


class Token(NamedTuple):
    folded: str  # the word in lower case, without accents
    stem: str
    position: int
    start: int  # character offsets in the original text
    end: int


# What a paper writes that is no mention of a topic, whatever words it spells: web
# addresses ("github.com/NJU-RL/…"), e-mail addresses, file paths and identifiers of
# code ("train_rl.py", "RL_agent").
_OPAQUE_PARTS = (
    r"(?:https?://|ftp://|www\.)\S+",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|edu|gov|dev|co|cn|de|uk|me)/\S*",
    r"[^\s()\[\]{},;:]*[^\W_]_[^\W_][^\s()\[\]{},;:]*",
    r"\b\w+\.(?:py|ipynb|json|yaml|cpp|rs|js|ts|sh)\b",
)


@lru_cache(maxsize=32)
def _opaque_of(present: tuple[bool, ...]) -> re.Pattern[str]:
    """_OPAQUE_PARTS as one expression, with only the alternatives a text can match
    (`present`: whether it has each one's mark, _opaque_marks): the same matches, as
    an alternative that cannot match anywhere changes none, without trying the costly
    ones at every character (an identifier's: most texts have no underscore)."""
    parts = [part for part, there in zip(_OPAQUE_PARTS, present, strict=True) if there]
    return re.compile("|".join(parts) or "(?!)", re.IGNORECASE)


def _opaque_marks(text: str) -> tuple[bool, ...]:
    """Whether `text` has what each of _OPAQUE_PARTS needs: "://" or "www.", "@", "/",
    "_", "." (any case: the expression ignores it)."""
    return (
        "://" in text or "www." in text.lower(),
        "@" in text,
        "/" in text,
        "_" in text,
        "." in text,
    )


def _segments(text: str, opaque: bool) -> list[tuple[int, int]]:
    """The stretches of `text` its words are read from: all of it, or with `opaque`
    the text between addresses and identifiers, each of which breaks a phrase as
    punctuation does."""
    if not opaque or not any(mark in text for mark in ("/", "@", "_", "www.", ".py")):
        return [(0, len(text))]
    found, last = [], 0
    for hidden in _opaque_of(_opaque_marks(text)).finditer(text):
        found.append((last, hidden.start()))
        last = hidden.end()
    found.append((last, len(text)))
    return found


# The words of a text and what lies between them, in one pass in C: [between, word,
# between, word, …, between]. Reading offsets off their lengths makes no match object
# per word (a paper has some 200).
_SPLIT = re.compile(f"({_TOKEN.pattern})")


def tokenize(text: str, *, opaque: bool = False) -> list[Token]:
    """The words of `text` with positions; punctuation leaves a gap of one position.

    `opaque` (a paper's text): web and e-mail addresses, paths and code identifiers
    are no words of it (see _OPAQUE_PARTS)."""
    tokens: list[Token] = []
    append, joining, fold_and_stem, split = (
        tokens.append,
        _JOINING.match,
        _fold_and_stem,
        _SPLIT.split,
    )
    position = 0
    for begin, stop in _segments(text, opaque):
        parts = split(text[begin:stop] if begin or stop != len(text) else text)
        if len(parts) < 2:
            continue  # no word in this stretch
        pairs = zip(parts[0:-1:2], parts[1::2], strict=True)
        between, word = next(pairs)
        start = begin + len(between)
        offset = end = start + len(word)
        if tokens:
            position += 2  # the stretch before ends with what is hidden: a phrase breaks
        folded, stemmed = fold_and_stem(word)
        # tuple.__new__: a Token without namedtuple's Python-level constructor (a paper
        # has some 200 words, each made a Token)
        append(_new_token(Token, (folded, stemmed, position, start, end)))
        for between, word in pairs:
            start = offset + len(between)
            offset = end = start + len(word)
            # A single space is by far the most common separator: no expression for it.
            position += 1 if between == " " or joining(between) else 2
            folded, stemmed = fold_and_stem(word)
            append(_new_token(Token, (folded, stemmed, position, start, end)))
    return tokens


_new_token = tuple.__new__


@lru_cache(maxsize=200_000)
def _fold_and_stem(word: str) -> tuple[str, str]:
    # A paper's words repeat (within it and across papers): unicode folding once each.
    folded = fold(word)
    return folded, stem(folded)


def stems_of(text: str) -> tuple[str, ...]:
    return tuple(token.stem for token in tokenize(text))


def glued(words: Iterable[str]) -> str:
    """The virtual term of words written together: ("pre", "training") -> "pretrain"."""
    return stem("".join(words))


# The end (or ends) of a term's spans that start at one position.
Ends = int | list[int]


def ends_of(ends: Ends) -> Sequence[int]:
    """The ends of Field.spans[term][start] as a sequence."""
    return (ends,) if type(ends) is int else ends


@dataclass
class Field:
    """One analyzed text field: its tokens, and every term with its spans."""

    text: str
    tokens: list[Token]
    # term -> {start position: its end, or [its ends] where it has several}; ends are
    # exclusive. An int for the one end most spans have: no list each, and a dict of
    # ints is no container the cycle collector walks (see ends_of).
    spans: dict[str, dict[int, Ends]] = field(default_factory=dict)
    # its sentences and the words around each position (about.Layout), when first asked
    layout: object = field(default=None, repr=False, compare=False)

    def add(self, term: str, start: int, end: int) -> None:
        at = self.spans.setdefault(term, {})
        ends = at.get(start)
        if ends is None:
            at[start] = end
        elif type(ends) is int:
            at[start] = [ends, end]
        else:
            ends.append(end)

    def surface(self, start: int, end: int) -> str:
        """The text as written between two positions ("Mixture-of-Experts")."""
        # Positions increase with the tokens: find the first and last by bisection.
        tokens = self.tokens
        first = bisect_left(tokens, start, key=_position)
        last = bisect_left(tokens, end, lo=first, key=_position)
        if first >= last:
            return ""
        return self.text[tokens[first].start : tokens[last - 1].end]


# A Token's position (its third item), as a C-level key for bisect: surface() is asked
# for every word of every match.
_position = itemgetter(2)


def _hyphen_runs(text: str, tokens: list[Token]) -> list[tuple[int, int]]:
    """Index ranges [i, j) of tokens joined by single hyphens: "state-of-the-art"."""
    runs, start = [], 0
    for i in range(1, len(tokens) + 1):
        # one character between them, a hyphen (_HYPHENS: a set, not an expression,
        # asked of every word a single space follows)
        joined = i < len(tokens) and (
            tokens[i].start - tokens[i - 1].end == 1 and text[tokens[i - 1].end] in _HYPHENS
        )
        if not joined:
            if i - start >= 2:
                runs.append((start, i))
            start = i
    return runs


def _initials_match(letters: str, words: list[str]) -> bool:
    if not words or words[0][0] != letters[0]:
        return False
    every = "".join(word[0] for word in words)
    content = "".join(word[0] for word in words if word not in _STOPWORDS)
    return letters in (every, content)


Definitions = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]


def definitions(field_: Field) -> Definitions:
    """The acronyms a text defines: {"str": (("spars", "token", "rout"), folded words)}."""
    found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    text, tokens = field_.text, field_.tokens
    for match in _DEFINITION.finditer(text):
        acronym = match.group(1)
        if sum(c.isupper() for c in acronym) < 2:
            continue  # "(see below)", "(i)": not an acronym
        letters = "".join(c for c in fold(acronym) if c.isalpha())
        before = [t for t in tokens if t.end <= match.start()]
        # Longest plausible long form first: each letter may skip a stopword.
        for size in range(min(len(before), 2 * len(letters)), len(letters) - 1, -1):
            candidate = before[-size:]
            if candidate[-1].position - candidate[0].position >= 2 * size:
                continue  # punctuation inside: not one long form
            words = [t.folded for t in candidate]
            if _initials_match(letters, words):
                key = stem(fold(acronym).replace("-", ""))
                found[key] = (tuple(t.stem for t in candidate), tuple(words))
                break
    return found


_ELEMENTS = (  # noqa: SIM905 (the periodic table, as it reads)
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge "
    "As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm "
    "Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th "
    "Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr"
).split()
# A chemical formula, as written: element symbols (two-letter ones first), counts.
_FORMULA = re.compile("(?:(?:" + "|".join(sorted(_ELEMENTS, key=len, reverse=True)) + r")\d*){2,}")


def is_formula(written: str) -> bool:
    """ "GaN", "MoS2", "GaAs", "Ag2Pd3S": element symbols, one with a small letter.
    ("GAN", "CNN" are acronyms: all capitals; "MoE", "ViT", "LoRA" are not formulas.)"""
    return (
        any(c.islower() for c in written)
        and written[:1].isupper()
        and _FORMULA.fullmatch(written) is not None
    )


# What ends a LaTeX formula glued to the word after it.
_MATH_END = frozenset("$}")


def _written_as_acronym(text: str, token: Token) -> bool:
    # "MoE", "LLMs", "RL" are acronyms; "Moe" (a name) and "gan" are not. Longer
    # ones ("lidar", "mcmc") are unambiguous in any case. "GaN" is gallium nitride:
    # what a formula spells is not an acronym.
    written = text[token.start : token.end]
    if is_formula(written):
        return False
    if token.start and text[token.start - 1] in _MATH_END:
        return False  # "$\Lambda$CDM", "$w$CDM": the end of a name a formula begins
    return sum(c.isupper() for c in written) >= 2 or len(token.stem) >= 4


def analyze_field(text: str, concepts: Concepts, local: Definitions | None = None) -> Field:
    """Tokens and terms of one field, with the virtual terms described above.

    `local`: the acronyms the whole paper defines (default: those of this text).
    """
    tokens = tokenize(text, opaque=True)
    result = Field(text, tokens)
    return enrich(result, concepts, definitions(result) if local is None else local)


_DERIVED: dict[int, tuple[Concepts, dict[str, list[tuple[tuple[str, ...], str]]]]] = {}


def derived_long_forms(concepts: Concepts) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The long forms whose words have other forms, by their families' keys: first key
    -> [(keys, acronym)], so "quantum error-correcting codes" is quantum error correction."""
    cached = _DERIVED.get(id(concepts))
    if cached is None or cached[0] is not concepts:
        table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for long_form, acronym in concepts.acronym_of.items():
            keys = tuple(family(word) for word in long_form)
            if keys != long_form:
                table.setdefault(keys[0], []).append((keys, acronym))
        cached = _DERIVED[id(concepts)] = (concepts, table)
    return cached[1]


def other_senses(fields: Iterable[Field], concepts: Concepts) -> frozenset[str]:
    """Known acronyms of three letters or more a paper uses in another sense without
    defining it: it writes words whose initials spell them ("attack success rate" and
    "ASR") and never the known long form. Those acronyms are not the known concept."""
    fields = list(fields)
    written = {
        token.stem
        for field_ in fields
        for token in field_.tokens
        if len(token.stem) >= 3
        and token.stem in concepts.acronyms
        and token.folded.isalpha()
        and _written_as_acronym(field_.text, token)
    }
    found = set()
    for acronym in written:
        size, known, other = len(acronym), False, False
        for field_ in fields:
            tokens = field_.tokens
            initial = acronym[0]
            for i in range(len(tokens) - size + 1):
                if tokens[i].folded[0] != initial:
                    continue  # the initials below cannot spell it: most words
                run = tokens[i : i + size]
                if run[-1].position - run[0].position != size - 1:
                    continue
                if "".join(t.folded[0] for t in run) != acronym:
                    continue
                stems = tuple(t.stem for t in run)
                if concepts.canonical(stems) == (concept_term(acronym),):
                    known = True
                elif not any(t.folded in _STOPWORDS or t.stem == acronym for t in run):
                    other = True
        if other and not known:
            found.add(acronym)
    return frozenset(found)


# folded word -> (its family's key, the terms it adds at its position, in order): a
# paper's words repeat across papers, and each one's stem, key and "multi-" parts are
# the same every time (stem and family are functions of the word alone). Cleared
# when full rather than kept in order: a hit costs a dict lookup, not a call.
_WORD_TERMS: dict[str, tuple[str, tuple[str, ...]]] = {}
_WORD_TERMS_MAX = 200_000


def _word_terms(folded: str, stemmed: str) -> tuple[str, tuple[str, ...]]:
    """What `enrich` adds for one word: its stem, its family's key if that differs,
    and for "multiagent" (multi-agent) the terms of its "agent"."""
    key = family(stemmed)
    terms = [stemmed]
    if key != stemmed:
        terms.append(key)
    if folded.startswith("multi") and len(rest := folded[5:]) >= 4 and rest.isalpha():
        # "multiagent" is multi-agent: its "agent" is a word of it.
        terms.extend({stem(rest), family(stem(rest))})
    found = (key, tuple(terms))
    if len(_WORD_TERMS) >= _WORD_TERMS_MAX:
        _WORD_TERMS.clear()
    _WORD_TERMS[folded] = found
    return found


def enrich(
    result: Field, concepts: Concepts, local: Definitions, senses: frozenset[str] = frozenset()
) -> Field:
    """Add the terms of a tokenized field: words, their families' keys (forms.family),
    compounds, concepts, local acronyms. `senses`: acronyms used in another sense."""
    text, tokens, spans = result.text, result.tokens, result.spans

    def add(term: str, start: int, end: int) -> None:
        # Field.add, here without a method call: a paper's field gets some 250 terms
        at = spans.get(term)
        if at is None:
            spans[term] = {start: end}
        elif (ends := at.get(start)) is None:
            at[start] = end
        elif type(ends) is int:
            at[start] = [ends, end]
        else:
            ends.append(end)

    keys = []
    known = _WORD_TERMS
    for token in tokens:
        position = token.position
        found = known.get(token.folded)
        if found is None:
            found = _word_terms(token.folded, token.stem)
        key, terms = found
        keys.append(key)
        # add(), inlined: this loop runs for every word of every paper
        for term in terms:
            at = spans.get(term)
            if at is None:
                spans[term] = {position: position + 1}
            elif (ends := at.get(position)) is None:
                at[position] = position + 1
            elif type(ends) is int:
                at[position] = [ends, position + 1]
            else:
                ends.append(position + 1)
    for start, stop in _hyphen_runs(text, tokens):
        for first in range(start, stop - 1):
            for last in range(first + 2, min(stop, first + _MAX_COMPOUND) + 1):
                run = tokens[first:last]
                add(glued(t.folded for t in run), run[0].position, run[-1].position + 1)
    stems = [t.stem for t in tokens]
    # A paper that defines a known acronym otherwise ("Graph Attention Network (GAN)")
    # uses it in that other sense throughout.
    redefined = {
        acronym
        for acronym, (long_form, _) in local.items()
        if acronym in concepts.acronyms
        and concepts.canonical(long_form) != (concept_term(acronym),)
    } | senses
    derived = derived_long_forms(concepts)
    by_first_stem, acronyms = concepts.by_first_stem, concepts.acronyms
    # The paper's own long forms by their first stem (each has two words or more), in
    # their order: most words start none.
    local_at: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for acronym, (long_form, _) in local.items():
        local_at.setdefault(long_form[0], []).append((acronym, long_form))
    for i, token in enumerate(tokens):
        stemmed = token.stem
        if stemmed in by_first_stem:
            for long_form, acronym in concepts.long_forms_at(stems, i):
                end_token = tokens[i + len(long_form) - 1]
                if end_token.position - token.position == len(long_form) - 1:
                    add(concept_term(acronym), token.position, end_token.position + 1)
        for long_form, acronym in derived.get(keys[i], ()):
            if tuple(keys[i : i + len(long_form)]) == long_form:
                end_token = tokens[i + len(long_form) - 1]
                if end_token.position - token.position == len(long_form) - 1:
                    add(concept_term(acronym), token.position, end_token.position + 1)
        if stemmed in acronyms and stemmed not in redefined and _written_as_acronym(text, token):
            add(concept_term(stemmed), token.position, token.position + 1)
        for acronym, long_form in local_at.get(stemmed, ()):
            size = len(long_form)
            if tuple(stems[i : i + size]) == long_form:
                add(acronym, token.position, tokens[i + size - 1].position + 1)
    for acronym, (_, words) in local.items():
        compound = glued(words)
        for start in list(spans.get(acronym, {})):
            for end in list(ends_of(spans[acronym][start])):
                add(compound, start, end)
    return result
