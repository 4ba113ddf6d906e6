"""Derivational word forms: "private" and "privacy", "molecular" and "molecules",
"transportation" and "transport" are one word to the engine.

`stem()` (analysis) takes off inflections (plurals, -ing, -ed); this module maps a
stem to its *family*: the same key for the words one derives from another. Both a
paper's words and an interest's words are mapped alike, so "differential privacy"
finds "differentially private" and `-molecules` excludes "molecular" too.

Precision first: a rule only where the words it joins mean the same thing in
papers, each written as a suffix of a stem with the words it must not touch
(reviewed against the words of the relevance set's papers; tests/matching/
test_forms.py keeps the list of families it makes). Rules, in order:

- adverbs to adjectives: differentially -> differential, privately -> private,
  efficiently -> efficient;
- nouns of quality to adjectives: privacy -> private, causality -> causal,
  linearity -> linear, stochasticity -> stochastic, sensitivity -> sensitive;
- -ular adjectives to their nouns: molecular -> molecule, modular -> module;
- -ological / -ometric / -oscopic to -ology / -ometry / -oscopy: topological ->
  topology, photometric -> photometry;
- Latin -ct, -pt and -ss stems: prediction, predictor, predictive -> predict;
  detection, detector -> detect; superconductivity, superconductor ->
  superconduct; compression -> compress; adaptive -> adapt;
- -ization to -ize: optimization -> optimize;
- -ation, -ator and -ate to one base: transportation -> transport, generation,
  generator, generated -> gener-, estimation -> estimate;
- a few irregular families: nucleus, nuclei, nuclear; planetary -> planet;
  robotic, robotics -> robot; coding -> code. ("agentic" is not "agent": in
  papers it names LLM agents, "agent" alone any agent, a molecule or a company.)

A rule never makes a base shorter than five letters ("station" is not "state",
"relation" and "relate" stay "relat"), and words whose derived base is another
word ("foundation" is not "found", "publication" not "public", "objective" not
"object", "respectively" not "respect") are left alone.
"""

from functools import cache, lru_cache

MIN_BASE = 5

# Stems never given a family: their base would be another word.
_NEVER = frozenset(
    {
        "formation", "foundation", "station", "ration", "nation", "publication",
        "specification", "application", "indication", "implication", "equation",
        "habitat", "format", "combat", "threat", "great", "repeat", "defeat", "caveat",
        "reality", "quality", "personality", "variety", "community", "university",
        "objective", "objectively", "subjective", "subjectively", "respective",
        "respectively", "exception", "exceptional", "perspective", "production",
        "productivity", "effective", "effectively", "effectiveness", "detective",
        "function", "functional", "section", "fraction", "fiction", "auction",
        "relativity", "success", "successive", "successively", "possession", "access",
        "particular", "particularly", "spectacular", "popularity", "processor", "successor",
        "director", "productive", "objection", "objectivity", "subjectivity", "succession",
        "procession", "accession", "operator", "projection", "projective", "projector",
        "reactor", "conductor", "conduction", "contraction", "attractor", "collective",
        "collectively", "metallicity", "multiplicity", "microscopic",
        "clarity", "charity", "majority", "minority", "priority", "authority",
        "security", "identity", "entity", "city", "capacity", "opportunity", "unity",
        "humanity", "gravity", "density", "velocity", "intensity", "diversity",
        "complexity", "property", "activation", "activate", "active", "actively",
        "activity", "inactive", "radioactive", "attractive", "abstraction",
        "distinction", "extinction", "direction", "directive", "directly", "direct",
    }
)  # fmt: skip

# Bases an -ation / -ate / -ator word keeps its "at" for: modulation is not module,
# regulation not regular, population not popular.
_KEEP_AT = frozenset(
    {"modul", "regul", "popul", "habit", "activ", "valid", "candid", "design", "condens"}
    | {"fabric", "authentic"}
)

# Irregular families: stem -> the key of the family.
_FAMILIES = {
    "nuclear": "nucleus",
    "nuclei": "nucleus",
    "planetary": "planet",
    "exoplanetary": "exoplanet",
    "interplanetary": "interplanet",
    "galactic": "galaxy",
    "recognition": "recogniz",
    "recognizer": "recogniz",
    "forecaster": "forecast",
    "optimizer": "optimiz",
    "classifier": "classif",
    "classification": "classif",
    "classify": "classif",
    "classifi": "classif",  # "classified"
    "robotic": "robot",
    "robotics": "robot",
    "cod": "code",  # "coding", "coded"
}

# (suffix, replacement): adverbs to adjectives, as stem() leaves adjectives.
_ADVERBS = (
    ("ically", "ical"),
    ("ally", "al"),
    ("ently", "ent"),
    ("antly", "ant"),
    ("ously", "ous"),
    ("ively", "iv"),
    ("ately", "at"),
    ("fully", "ful"),
    ("ularly", "ular"),
    ("arly", "ar"),
)
# Nouns of quality to adjectives.
_QUALITIES = (
    ("icity", "ic"),
    ("ality", "al"),
    ("arity", "ar"),
    ("ivity", "iv"),
    ("acy", "at"),
)
_SCIENCES = (
    ("ological", "ology"),
    ("ologic", "ology"),
    ("ometrical", "ometry"),
    ("ometric", "ometry"),
    ("oscopical", "oscopy"),
    ("oscopic", "oscopy"),
    ("ographical", "ography"),
    ("ographic", "ography"),
)
# Latin stems: what follows -ct, -pt or -ss goes.
_LATIN = ("ion", "ive", "iv", "or", "ivity")


def _strip(word: str, suffixes: tuple[tuple[str, str], ...]) -> str:
    for suffix, replacement in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= MIN_BASE:
            return word[: -len(suffix)] + replacement
    return word


def _latin(word: str) -> str | None:
    for suffix in _LATIN:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if base.endswith(("ct", "pt", "ss")) and len(base) >= MIN_BASE:
                return base
    return None


def _at(word: str) -> str:
    """-ation, -ator and -ate (as stem() leaves it, "generat") to one base."""
    for suffix in ("ization", "izat"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + "iz"
    for suffix in ("ation", "ator", "at"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            base = word[: -len(suffix)]
            if len(base) >= MIN_BASE and base not in _KEEP_AT:
                return base
            return base + "at"
    return word


@cache
def _tables() -> tuple[frozenset[str], dict[str, str]]:
    """The words above as stems ("objective" -> "objectiv"), as `family` is asked."""
    from digest.matching.analysis import stem  # analysis imports this module

    never = frozenset(_NEVER | {stem(word) for word in _NEVER})
    return never, {stem(word): key for word, key in _FAMILIES.items()} | _FAMILIES


@lru_cache(maxsize=200_000)
def family(stem: str) -> str:
    """The key of the family of a stem ("privacy", "privat" -> "privat"); the stem
    itself where no rule applies."""
    never, families = _tables()
    if stem in families:
        return families[stem]
    if stem in never or len(stem) < MIN_BASE or not stem.isalpha():
        return stem
    word = _strip(stem, _ADVERBS)
    if word in never:
        return stem
    word = _strip(word, _QUALITIES)
    word = _strip(word, _SCIENCES)
    if word.endswith("ular") and word not in never:
        word = word[:-2]  # molecular -> molecul, as stem("molecules")
    latin = _latin(word)
    if latin is not None:
        return latin
    if word.endswith("iv") and word != stem:
        return word  # sensitivity -> sensitiv, as stem("sensitive")
    return _at(word)
