"""The interest language: parsing a line into clauses, and compiling them to terms.

    diffusion models                 the words in order, any inflection, hyphen or not
    LLM / large language models      acronyms and long forms are one concept
    "in-context learning"            that phrase as written: no inflection, no synonyms
    graph neural networks -molecules the first, unless the paper also matches the second
    diffusion models -video generation  an exclusion is the phrase after the minus, up to
                                     the next AND, minus or the end of the line
    author:"Yann LeCun"              an author (initials match: "Y. LeCun")
    cat:cs.LG / cat:hep              an arXiv category, or every category of an archive
    transformers AND protein folding both

Words next to each other form one phrase; a quoted phrase, a field or an
exclusion ends it. An exclusion takes the words after its minus up to the next
AND or minus (or the end); a field or a quoted phrase after excluded words, or
words after an excluded field or quote, would be unclear (excluded too, or
looked for?) and are refused, saying to write AND or a minus. A mistake raises
InterestSyntaxError whose message says what is wrong and at which character.
"""

import re
from dataclasses import dataclass
from itertools import product

from digest.matching.analysis import fold, glued, tokenize
from digest.matching.concepts import Concepts
from digest.matching.forms import family

MAX_INTEREST_LENGTH = 200
# What one interest expands to at most (a concept's group and narrower topics):
# vocabulary/build.py keeps every concept within it.
MAX_ALTERNATIVES = 20
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[a-z\-]+)?$", re.IGNORECASE)
_FIELD = re.compile(r"([A-Za-z]+):")  # used with .match(text, i): anchored at i
_FIELDS = ("author", "cat")


class InterestSyntaxError(ValueError):
    """An interest that cannot be used; the message says what is wrong and where."""


@dataclass(frozen=True)
class Phrase:
    """Words to find in the title or abstract, compiled to term sequences.

    `alternatives`: each a sequence of terms found in a row (any one will do);
    `categories`: category keys that also satisfy it ("quantum physics" -> quant-ph);
    `exact`: words as written, checked on the folded words (a quoted phrase);
    `concept`: the terms it was written with, acronyms and long forms made one
    ("LLMs", "large language models" -> ("#llm",)); none for a quoted phrase;
    `contextual`: alternatives that count only in a paper with one of `context`
    (concepts.toml's narrower_in_context: "agent" for LLM agents in a paper on
    language models); `narrower`: the alternatives that name a narrower topic.
    """

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    categories: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    concept: tuple[str, ...] = ()
    heads: tuple[tuple[str, ...], ...] = ()
    contextual: tuple[tuple[str, ...], ...] = ()
    context: tuple[tuple[str, ...], ...] = ()
    narrower: tuple[tuple[str, ...], ...] = ()  # the alternatives that name a narrower topic


@dataclass(frozen=True)
class Author:
    text: str
    names: tuple[str, ...]  # folded name parts, surname last


@dataclass(frozen=True)
class Category:
    text: str
    key: str  # "cs.lg", or an archive: "cs", "hep", "astro-ph"


Clause = Phrase | Author | Category


@dataclass(frozen=True)
class Query:
    text: str
    required: tuple[Clause, ...]
    excluded: tuple[Clause, ...]


@dataclass
class _Item:
    kind: str  # "word", "quoted", "field", "and"
    text: str
    position: int  # 1-based character, for messages
    negated: bool = False
    field: str = ""


def _error(text: str, position: int, message: str) -> InterestSyntaxError:
    return InterestSyntaxError(f"{message} (at character {position} of “{text}”)")


def _scan(text: str) -> list[_Item]:
    """Split an interest into words, quoted phrases, fields and AND."""
    items: list[_Item] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        start, negated = i, False
        if text[i] == "-":
            negated = True
            i += 1
            if i >= len(text) or text[i].isspace():
                raise _error(text, start + 1, "A minus must be followed by what to exclude")
        field_match = _FIELD.match(text, i)
        field_name = ""
        after = i + len(field_match.group(0)) if field_match else 0
        if field_match and after < len(text):
            field_name = field_match.group(1).lower()
            if field_name not in _FIELDS and (items or text[after].isspace()):
                # Words: "LLM safety: a survey", "spam at http://example.com". Only a
                # line that starts so ("title:graphs") looks like a field we lack.
                field_name = ""
            elif field_name not in _FIELDS:
                raise _error(
                    text,
                    i + 1,
                    f'Unknown field “{field_match.group(0)}”: use author:"Name" or cat:cs.LG',
                )
            else:
                i = after
        if i < len(text) and text[i] == '"':
            closing = text.find('"', i + 1)
            if closing == -1:
                raise _error(text, i + 1, "This quote is never closed")
            value = text[i + 1 : closing].strip()
            if not value:
                raise _error(text, i + 1, "Empty quotes: put the exact phrase between them")
            i = closing + 1
            kind = "field" if field_name else "quoted"
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] != '"':
                end += 1
            value, i = text[start if not (negated or field_name) else i : end], end
            if field_name and not value:
                raise _error(text, start + 1, f"{field_name}: needs a value")
            kind = "field" if field_name else "word"
            if kind == "word" and not negated and value in ("AND", "OR"):
                kind = value.lower()
        items.append(_Item(kind, value, start + 1, negated, field_name))
    return items


def _category(text: str, item: _Item, concepts: Concepts) -> Category:
    if not _CATEGORY.match(item.text):
        raise _error(
            text, item.position, f"“{item.text}” is not an arXiv category: write e.g. cat:cs.LG"
        )
    if not concepts.knows_category(item.text):
        # A misspelt category would find nothing, silently, for as long as it is kept.
        close = [f"cat:{code}" for code in concepts.close_categories(item.text)]
        message = f"“{item.text}” is not an arXiv category"
        if close:
            message += ": did you mean " + (", ".join(close[:-1]) + " or " if close[1:] else "")
            message += close[-1] + "?"
        raise _error(text, item.position, message)
    return Category(f"cat:{item.text}", item.text.lower())


def _author(text: str, item: _Item) -> Author:
    names = tuple(token.folded for token in tokenize(item.text))
    if not names:
        raise _error(text, item.position, "author: needs a name")
    return Author(f'author:"{item.text}"', names)


def _substitutions(
    stems: tuple[str, ...], concepts: Concepts
) -> list[tuple[tuple[str, ...], bool]]:
    """`stems` and its variants with thesaurus phrases swapped for their synonyms
    and the narrower topics they include; each with whether a narrower topic is in it."""
    options: list[list[tuple[tuple[str, ...], bool]]] = []
    i = 0
    while i < len(stems):
        for size in range(len(stems) - i, 0, -1):
            span = stems[i : i + size]
            group = concepts.synonyms.get(span, (span,))
            narrower = [topic for member in group for topic in concepts.narrower.get(member, ())]
            if len(group) > 1 or narrower:
                same = dict.fromkeys(group)
                options.append(
                    [(p, False) for p in same]
                    + [(p, True) for p in dict.fromkeys(narrower) if p not in same]
                )
                i += size
                break
        else:
            options.append([((stems[i],), False)])
            i += 1
    variants = []
    for combination in product(*options):
        terms = tuple(term for part, _ in combination for term in part)
        variants.append((terms, any(narrow for _, narrow in combination)))
        if len(variants) >= MAX_ALTERNATIVES:
            break
    return variants


def phrase(text: str, concepts: Concepts, *, exact: bool = False) -> Phrase:
    """Compile words to find (`exact`: as written, no inflection or synonyms)."""
    tokens = tokenize(text)
    if not tokens:
        raise InterestSyntaxError(f"“{text}” has no letters or digits to look for")
    stems = tuple(token.stem for token in tokens)
    if exact:
        return Phrase(f'"{text}"', (stems,), exact=tuple(token.folded for token in tokens))
    canonical = concepts.canonical(stems)
    variants = [(_families(terms), narrow) for terms, narrow in _substitutions(canonical, concepts)]
    alternatives = [terms for terms, _ in variants]
    if len(canonical) < len(stems):
        # Its words too, for words inside it ("quantum-enhanced machine learning").
        alternatives.append(_families(stems))
    if 2 <= len(tokens) <= 4:
        alternatives.append((glued(token.folded for token in tokens),))
    # the phrase's own variants and words: what the paper says when it names the phrase
    plain = {terms for terms, narrow in variants if not narrow} | set(alternatives[len(variants) :])
    narrower = tuple(dict.fromkeys(t for t, narrow in variants if narrow and t not in plain))
    contextual, context = _in_context(canonical, concepts)
    return Phrase(
        text,
        tuple(dict.fromkeys(alternatives)),
        categories=concepts.categories.get(canonical, ()),
        concept=_families(canonical),
        heads=_heads(_families(canonical)),
        contextual=contextual,
        context=context,
        narrower=narrower,
    )


def _in_context(
    canonical: tuple[str, ...], concepts: Concepts
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """The narrower topics the whole phrase (or a synonym of it) finds only in a paper
    that names one of their context phrases, and those phrases."""
    for member in concepts.synonyms.get(canonical, (canonical,)):
        found = concepts.narrower_in_context.get(member)
        if found:
            topics, context = found
            return tuple(map(_families, topics)), tuple(map(_families, context))
    return (), ()


def _families(terms: tuple[str, ...]) -> tuple[str, ...]:
    """Terms with each word as its family's key (forms.family): "privacy" -> "privat"."""
    return tuple(term if term.startswith("#") else family(term) for term in terms)


# Words that end a phrase without saying what it is about: "attention mechanisms" is
# about attention, "neutrino physics" about neutrinos, "topological phases of matter"
# about topological phases. ("kernel methods" is not about every kernel, so "method"
# is not one of them; nor is "model": "diffusion" alone is also heat's.)
LIGHT_ENDINGS = (("mechanism",), ("physics",), ("of", "matter"))


def _heads(terms: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """What a phrase is about when its ending says nothing: what a title may say alone."""
    for ending in LIGHT_ENDINGS:
        if len(terms) > len(ending) and terms[-len(ending) :] == ending:
            return (terms[: -len(ending)],)
    return ()


def _written(item: _Item) -> str:
    """An item as the interest writes it, without its minus: cat:cs.CV, "a b", word."""
    value = f'"{item.text}"' if item.kind == "quoted" or " " in item.text else item.text
    return f"{item.field}:{value}" if item.kind == "field" else value


def _ambiguous(text: str, item: _Item, exclusion: _Item) -> InterestSyntaxError:
    """Something after an exclusion that cannot run on into it: a field or quoted
    phrase after excluded words, or anything after an excluded field or quote."""
    shown = _written(item)
    return _error(
        text,
        item.position,
        f"“{shown}” after the exclusion “-{_written(exclusion)}” is unclear: "
        f"write “AND {shown}” to look for it too, or “-{shown}” to exclude it",
    )


def _clause(text: str, item: _Item, words: list[_Item], concepts: Concepts) -> Clause:
    if item.kind == "field":
        return _author(text, item) if item.field == "author" else _category(text, item, concepts)
    if item.kind == "quoted":
        return _compiled(item.text, concepts, exact=True)
    return _compiled(" ".join(word.text for word in words), concepts)


# Phrases compiled for the last Concepts used: interests share phrases ("diffusion
# models", "diffusion models -video", "diffusion models AND physics"), and compiling
# one (synonyms, narrower topics, families) is most of what parsing an interest costs.
_COMPILED: dict[str, object] = {"concepts": None, "phrases": {}}
_MAX_COMPILED = 100_000


def _compiled(text: str, concepts: Concepts, *, exact: bool = False) -> Phrase:
    if _COMPILED["concepts"] is not concepts:
        _COMPILED.update(concepts=concepts, phrases={})
    phrases: dict[tuple[str, bool], Phrase] = _COMPILED["phrases"]  # type: ignore[assignment]
    found = phrases.get((text, exact))
    if found is None:
        found = phrase(text, concepts, exact=exact)
        if len(phrases) < _MAX_COMPILED:
            phrases[text, exact] = found
    return found


def parse(text: str, concepts: Concepts) -> Query:
    """The query of one interest line; InterestSyntaxError says what is wrong."""
    tidy = " ".join(text.split())
    if not tidy:
        raise InterestSyntaxError("An interest cannot be empty")
    if len(tidy) > MAX_INTEREST_LENGTH:
        raise InterestSyntaxError(
            f"An interest can be at most {MAX_INTEREST_LENGTH} characters "
            f"(this one has {len(tidy)})"
        )
    items = _scan(tidy)
    required: list[Clause] = []
    excluded: list[Clause] = []
    words: list[_Item] = []
    expecting_operand = True  # at the start, and right after AND

    # An exclusion runs to the next AND, minus or the end: "-video generation".
    exclusion: list[_Item] = []

    def flush() -> None:
        if words:
            required.append(_clause(tidy, words[0], words, concepts))
            words.clear()
        if exclusion:
            excluded.append(_clause(tidy, exclusion[0], exclusion, concepts))
            exclusion.clear()

    for item in items:
        if item.kind == "or":
            raise _error(
                tidy, item.position, "OR is not supported: put each alternative on its own line"
            )
        if item.kind == "and":
            if expecting_operand and not (exclusion and required):
                raise _error(tidy, item.position, "AND needs something to look for on both sides")
            flush()
            expecting_operand = True
            continue
        if item.negated or exclusion:
            if item.negated:
                flush()
                exclusion.clear()
            elif item.kind != "word" or exclusion[0].kind != "word":
                raise _ambiguous(tidy, item, exclusion[0])
            exclusion.append(item)
            continue
        expecting_operand = False
        if item.kind == "word":
            words.append(item)
            continue
        flush()
        required.append(_clause(tidy, item, [item], concepts))
    if expecting_operand and items and items[-1].kind == "and":
        raise _error(tidy, items[-1].position, "AND needs something to look for on both sides")
    words_after = len(exclusion) > 1 and exclusion[0].kind == "word"
    flush()
    if not required and words_after:
        raise InterestSyntaxError(
            f"An exclusion runs to the next AND or minus or the end of the line, so "
            f"“{tidy}” only excludes: say what to look for first, "
            "e.g. “graph neural networks -molecules”"
        )
    if not required:
        raise InterestSyntaxError(
            f"“{tidy}” only excludes: say what to look for too, "
            "e.g. “graph neural networks -molecules”"
        )
    return Query(tidy, tuple(required), tuple(excluded))


_NAME_PART = re.compile(r"[^\W_]+")


def normalize_name(name: str) -> tuple[str, ...]:
    """Folded name parts of an author, surname last: "Yann LeCun" -> ("yann", "lecun")."""
    return tuple(fold(part) for part in _NAME_PART.findall(name))


def searched_spans(text: str) -> list[tuple[int, int]]:
    """Where, in the tidied `text` of a valid interest, are the words it looks for in
    titles and abstracts: character spans of each word, without its fields
    (author:, cat:), exclusions and AND. What a spelling correction may change."""
    tidy = " ".join(text.split())
    spans = []
    excluding = False  # in an exclusion, which runs to the next AND or minus
    for item in _scan(tidy):
        excluding = item.negated or (excluding and item.kind != "and")
        if excluding or item.kind not in ("word", "quoted"):
            continue
        start = tidy.index(item.text, item.position - 1)
        inside = tokenize(item.text)
        spans += [(start + token.start, start + token.end) for token in inside]
    return spans
