"""The engine's vocabulary: acronyms, a thesaurus, a concept graph and arXiv category names.

The data lives next to this module, so it can be read and reviewed as data:
`concepts.toml` (reviewed by hand) and `concepts_derived.toml` (the concept
graph written by `vocabulary/build.py` from public vocabularies and a curated
part, every entry with its source). The derived file only adds: what
concepts.toml says always wins. Everything is turned into stems once, when
first used, so the engine compares stems with stems.
"""

import difflib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path

DATA = Path(__file__).with_name("concepts.toml")
DERIVED = Path(__file__).with_name("concepts_derived.toml")
# How many known categories an unknown `cat:` value is answered with.
CLOSE_CATEGORIES = 3


def concept_term(acronym_stem: str) -> str:
    """The term that stands for an acronym's concept, in text and in queries: "#llm"."""
    return f"#{acronym_stem}"


def category_keys(category: str) -> tuple[str, ...]:
    """What a `cat:` value may say to mean this category: cs.lg -> cs.lg, cs; hep-th -> hep."""
    category = category.lower()
    archive = category.split(".")[0]
    keys = [category, archive]
    if "-" in archive:
        keys.append(archive.split("-")[0])
    return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class Concepts:
    # acronym stems: "llm", "moe", "gan"
    acronyms: frozenset[str] = frozenset()
    # (stems of a long form) -> the acronym's stem: ("larg", "languag", "model") -> "llm"
    acronym_of: dict[tuple[str, ...], str] = field(default_factory=dict)
    # first stem -> [(long form stems, acronym)], longest first, to find long forms in text
    by_first_stem: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)
    # (stems of a phrase) -> every phrase of its thesaurus group (itself included)
    synonyms: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    # (stems of a phrase) -> narrower topics it also finds: diffusion model -> (#dit, …)
    narrower: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    # (stems of a phrase) -> (narrower topics, context phrases): topics it also finds
    # only in a paper that names one of the context phrases ("agent" for LLM agents
    # where the paper is on language models)
    narrower_in_context: dict[
        tuple[str, ...], tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]
    ] = field(default_factory=dict)
    # (stems of a category name) -> category codes or archives ("astro-ph")
    categories: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    # every category code and archive, as arXiv writes them ("cs.LG", "astro-ph")
    category_codes: tuple[str, ...] = ()
    # every phrase and acronym above, as written: the spellings a correction may use
    phrases: tuple[str, ...] = ()

    @cached_property
    def words(self) -> frozenset[str]:
        """The folded words of `phrases` (only a spelling correction needs them)."""
        # Imported here: analysis imports this module for its type.
        from digest.matching.analysis import tokenize

        return frozenset(token.folded for phrase in self.phrases for token in tokenize(phrase))

    @cached_property
    def _category_keys(self) -> frozenset[str]:
        return frozenset(key for code in self.category_codes for key in category_keys(code))

    def knows_category(self, value: str) -> bool:
        """Whether `cat:value` can find papers: a known code, archive or group ("hep").

        Concepts without a category list (a test's own) take any value."""
        return not self.category_codes or value.lower() in self._category_keys

    def close_categories(self, value: str) -> list[str]:
        """The known categories closest to an unknown `cat:` value, best first: those
        named so ("robotics" -> cs.RO), then the closest spellings; a code whose subject
        is the same counts as closer ("cs.ML" -> stat.ML)."""
        # Imported here: analysis imports this module for its type.
        from digest.matching.analysis import stems_of

        named = self.categories.get(self.canonical(stems_of(value)), ())
        by_key = {code.lower(): code for code in self.category_codes}
        found = [by_key.get(code, code) for code in named]
        wanted = value.lower()
        subject = wanted.partition(".")[2]

        def closeness(code: str) -> float:
            ratio = difflib.SequenceMatcher(None, wanted, code.lower()).ratio()
            return ratio + (0.3 if subject and code.lower().partition(".")[2] == subject else 0)

        for code in sorted(self.category_codes, key=lambda code: (-closeness(code), code)):
            if len(found) >= CLOSE_CATEGORIES:
                break
            if code not in found:
                found.append(code)
        return found[:CLOSE_CATEGORIES]

    def long_forms_at(self, stems: list[str], index: int) -> Iterator[tuple[tuple[str, ...], str]]:
        """The known long forms that start at `stems[index]`, with their acronyms."""
        for long_form, acronym in self.by_first_stem.get(stems[index], ()):
            if tuple(stems[index : index + len(long_form)]) == long_form:
                yield long_form, acronym

    def canonical(self, stems: tuple[str, ...]) -> tuple[str, ...]:
        """`stems` with every known acronym or long form replaced by its concept term."""
        out: list[str] = []
        i = 0
        while i < len(stems):
            found = next(self.long_forms_at(list(stems), i), None)
            if found:
                out.append(concept_term(found[1]))
                i += len(found[0])
            else:
                known = stems[i] in self.acronyms
                out.append(concept_term(stems[i]) if known else stems[i])
                i += 1
        return tuple(out)


def build(data: dict) -> Concepts:
    """Concepts from the parsed TOML tables (see concepts.toml for the format)."""
    # Imported here: analysis imports this module for its type.
    from digest.matching.analysis import stem, stems_of

    acronyms = {stem(acronym.replace("-", "")) for acronym in data.get("acronyms", {})}
    concepts = Concepts(acronyms=frozenset(acronyms))
    for acronym, long_forms in data.get("acronyms", {}).items():
        key = stem(acronym.replace("-", ""))
        for long_form in long_forms:
            stems = stems_of(long_form)
            if len(stems) >= 2:
                concepts.acronym_of[stems] = key
                concepts.by_first_stem.setdefault(stems[0], []).append((stems, key))
    for entries in concepts.by_first_stem.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    for phrases in data.get("synonyms", {}).values():
        group = tuple(dict.fromkeys(concepts.canonical(stems_of(p)) for p in phrases))
        for member in group:
            concepts.synonyms[member] = group
    for broad, topics in data.get("narrower", {}).items():
        narrower = tuple(concepts.canonical(stems_of(topic)) for topic in topics)
        concepts.narrower[concepts.canonical(stems_of(broad))] = narrower
    for broad, entry in data.get("narrower_in_context", {}).items():
        topics = tuple(concepts.canonical(stems_of(topic)) for topic in entry["topics"])
        context = tuple(concepts.canonical(stems_of(phrase)) for phrase in entry["context"])
        concepts.narrower_in_context[concepts.canonical(stems_of(broad))] = (topics, context)
    codes: dict[str, str] = {}
    for name, named in data.get("categories", {}).items():
        concepts.categories[concepts.canonical(stems_of(name))] = tuple(c.lower() for c in named)
        codes.update((code.lower(), code) for code in named)
    # Every phrase of the tables (keys and values) spells words a correction may offer.
    phrases = [*data.get("acronyms", {}), *data.get("narrower", {}), *data.get("categories", {})]
    for table in ("acronyms", "synonyms", "narrower"):
        phrases += [phrase for listed in data.get(table, {}).values() for phrase in listed]
    for entry in data.get("narrower_in_context", {}).values():
        phrases += entry["topics"]
    return replace(concepts, category_codes=tuple(codes.values()), phrases=tuple(phrases))


def with_derived(reviewed: dict, derived: dict) -> dict:
    """The reviewed tables (concepts.toml) with the derived concept graph added
    (concepts_derived.toml), in concepts.toml's format for `build`.

    Derived acronyms are new ones only; a derived concept's synonyms join the
    reviewed group it belongs to (or make a new group); its narrower topics come
    after the reviewed ones. Phrases are matched by their stems, as `build` will."""
    # Imported here: analysis imports this module for its type.
    from digest.matching.analysis import stems_of

    data = dict(reviewed)
    acronyms = dict(reviewed.get("acronyms", {}))
    for acronym, entry in derived.get("acronyms", {}).items():
        acronyms.setdefault(acronym, list(entry["long_forms"]))
    synonyms = {name: list(group) for name, group in reviewed.get("synonyms", {}).items()}
    group_of = {stems_of(p): name for name, group in synonyms.items() for p in group}
    narrower = {broad: list(topics) for broad, topics in reviewed.get("narrower", {}).items()}
    broad_of = {stems_of(broad): broad for broad in narrower}
    for label, concept in derived.get("concept", {}).items():
        key = stems_of(label)
        added = concept.get("synonyms", {})
        if added:
            name = group_of.get(key)
            if name is None:
                name = group_of[key] = f"derived: {label}"
                synonyms[name] = [label]
            for phrase in added:
                if stems_of(phrase) not in group_of:
                    group_of[stems_of(phrase)] = name
                    synonyms[name].append(phrase)
        topics = concept.get("narrower", {})
        if topics:
            broad = broad_of.setdefault(key, label)
            listed = narrower.setdefault(broad, [])
            listed += [topic for topic in topics if topic not in listed]
    data.update(acronyms=acronyms, synonyms=synonyms, narrower=narrower)
    return data


@cache
def default_concepts() -> Concepts:
    with DATA.open("rb") as data:
        reviewed = tomllib.load(data)
    if DERIVED.exists():
        with DERIVED.open("rb") as data:
            reviewed = with_derived(reviewed, tomllib.load(data))
    return build(reviewed)
