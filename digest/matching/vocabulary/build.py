"""Build digest/matching/concepts_derived.toml: the engine's concept graph, derived
from public vocabularies and a reviewed hand-written part.

    python -m digest.matching.vocabulary.build \\
        --uat   GITDIR@COMMIT:UAT.json \\
        --physh GITDIR@COMMIT:physh.json.gz \\
        --mesh  GITDIR@COMMIT:data/mesh_data_2014/mtrees2014.bin.gz \\
        [--output FILE] [--report FILE] [--check]

Each source is a file path or `GITDIR@COMMIT:PATH` (a file inside a fetched git
snapshot, read with `git show`); nothing is fetched from the network. The exact
command, with the snapshot commits, is in the output's header and in README.md.

What it does, for each vocabulary:

1. reads every concept: its preferred label, alternative labels and narrower
   concepts (UAT: the JSON tree; PhySH: SKOS as JSON-LD; MeSH: the tree file);
2. normalises each label to concepts.toml's spelling rules (lower case, hyphens as
   spaces, singular head noun; MeSH's inverted headings "Diagnosis, Computer-
   Assisted" put in text order);
3. keeps only what a paper's text can be matched on safely (`usable`): no
   headings with "&", commas or parentheses, at most six words, a single word
   only if review.toml lists it as distinctive, no bare acronym (acronyms are
   reviewed by hand in curated.toml), nothing review.toml drops;
4. applies review.toml: the concepts, edges and alternative labels dropped on
   review, with why;
5. adds curated.toml (named methods and models no vocabulary has);
6. checks everything against the reviewed concepts.toml, which always wins: no
   synonym joins two reviewed groups or an acronym's concept, no narrower topic
   is the concept itself, and a narrower topic that already contains the
   concept's words ("cold dark matter" under "dark matter") is left out as
   redundant; the concept's group and narrower topics together are at most
   VOCABULARY_EXPANSION (16) phrases from the vocabularies, MAX_EXPANSION (20, what
   the engine expands an interest to) with the curated part;
7. writes concepts_derived.toml with the source of every entry (vocabulary and
   concept id, whose licence and snapshot are in its [sources] table).

`--report FILE` writes everything left out and why, for the next review.
`--check` compares the result with the committed file and fails if they differ.
"""

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
MATCHING = HERE.parent
ROOT = MATCHING.parent.parent
REVIEWED = MATCHING / "concepts.toml"
OUTPUT = MATCHING / "concepts_derived.toml"
REVIEW = HERE / "review.toml"
CURATED = HERE / "curated.toml"

# The engine expands an interest to at most 20 phrases (query.MAX_ALTERNATIVES; the
# glued spelling and the interest's own words come on top): a concept's synonyms
# and narrower topics together stay within this, or the last ones would never be
# looked for. A vocabulary fills a concept up to 16 only: the last places are for
# the hand-reviewed curated entries (named methods, the field's own terms).
MAX_EXPANSION = 20
VOCABULARY_EXPANSION = 16
MAX_WORDS = 6
# A phrase starting so also matches ordinary text ("a star", "be star", "do star").
ORDINARY_FIRST = frozenset({
    "a", "an", "the", "be", "am", "do", "is", "as", "at", "by", "in", "on", "or", "to", "no",
    "so", "it", "if", "of", "we", "us", "up", "and", "for", "not", "are", "was", "has", "can",
    "may", "its", "our",
})  # fmt: skip
# A label ending so names a list in the vocabulary, not a topic ("Lattice types").
HEADING_WORDS = frozenset({
    "type", "category", "kind", "class", "range", "topic", "aspect", "concept", "general",
    "other", "miscellaneous",
})  # fmt: skip

SOURCES = {
    "uat": {
        "name": "Unified Astronomy Thesaurus (UAT) 5.1.0",
        "publisher": "American Astronomical Society",
        "uri": "http://astrothesaurus.org/uat/{id}",
        "licence": "CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/)",
        "repository": "https://github.com/astrothesaurus/UAT",
    },
    "physh": {
        "name": "PhySH - Physics Subject Headings",
        "publisher": "American Physical Society",
        "uri": "https://doi.org/10.29172/{id}",
        "licence": "CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/)",
        "repository": "https://github.com/physh-org/PhySH",
    },
    "mesh": {
        "name": "Medical Subject Headings (MeSH) 2014, tree file mtrees2014.bin",
        "publisher": "U.S. National Library of Medicine",
        "uri": "MeSH 2014 tree number {id}",
        "licence": (
            "public domain, U.S. Government work; NLM's terms ask to credit NLM, name "
            "the version and say it was modified (it is: a selection, normalised)"
        ),
        "repository": "https://github.com/meducation/medical-subject-headings (copy of NLM's file)",
    },
    "curated": {
        "name": "Paperboy, reviewed by hand (digest/matching/vocabulary/curated.toml)",
        "publisher": "Paperboy",
        "uri": "",
        "licence": "this project's",
        "repository": "",
    },
}
CURATED_SOURCE = "curated"


# --- Reading the sources -----------------------------------------------------


@dataclass
class Input:
    spec: str
    data: bytes
    commit: str = ""
    path: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_input(spec: str) -> Input:
    """A file, or `GITDIR@COMMIT:PATH` read from a git snapshot; gunzipped if .gz."""
    match = re.fullmatch(r"(.+)@([0-9a-f]{7,40}):(.+)", spec)
    if match:
        gitdir, commit, path = match.groups()
        data = subprocess.run(
            ["git", "--git-dir", gitdir, "show", f"{commit}:{path}"],
            check=True,
            capture_output=True,
        ).stdout
        found = Input(spec, data, commit, path)
    else:
        found = Input(spec, Path(spec).read_bytes(), "", spec)
    if found.path.endswith(".gz"):
        found.data = gzip.decompress(found.data)
    return found


@dataclass
class Term:
    """One concept of a vocabulary."""

    source: str
    id: str
    label: str
    alt: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    top: bool = False  # a top concept or heading, too broad to be an interest's key


def _add_child(terms: dict[str, Term], parent: str, child: str) -> None:
    if child not in terms[parent].children:
        terms[parent].children.append(child)


def read_uat(data: bytes) -> dict[str, Term]:
    tree = json.loads(data)
    deprecated = {entry["uri"].rsplit("/", 1)[1] for entry in tree.get("deprecated", [])}
    terms: dict[str, Term] = {}

    def walk(node: dict, parent: str | None) -> None:
        uid = node["uri"].rsplit("/", 1)[1]
        if uid in deprecated:
            return
        if uid not in terms:
            terms[uid] = Term("uat", uid, node["name"], list(node.get("altLabels") or []))
        if parent is None:
            terms[uid].top = True
        else:
            _add_child(terms, parent, uid)
        for child in node.get("children") or []:
            walk(child, uid)

    for top in tree["children"]:
        walk(top, None)
    return terms


SKOS = "http://www.w3.org/2004/02/skos/core#"
PHYSH = "https://physh.org/rdf/2018/01/01/core#"


def read_physh(data: bytes, review: dict) -> dict[str, Term]:
    nodes = {node["@id"]: node for node in json.loads(data)}

    def label(node: dict) -> str:
        return (node.get(PHYSH + "prefLabel") or node[SKOS + "prefLabel"])[0]["@value"]

    def ids(node: dict, key: str) -> list[str]:
        return [value["@id"] for value in node.get(key, [])]

    def short(uri: str) -> str:
        return uri.rsplit("/", 1)[1]

    excluded_groups = set(review.get("exclude_disciplines_and_facets", []))
    terms: dict[str, Term] = {}
    for uri, node in nodes.items():
        types = node.get("@type", [])
        if PHYSH + "Facet" in types or PHYSH + "Discipline" in types:
            continue
        if node.get(PHYSH + "deprecated") or node.get(PHYSH + "excludeFromIndexing"):
            continue
        groups = ids(node, PHYSH + "inFacet") + ids(node, PHYSH + "inDiscipline")
        if any(label(nodes[g]) in excluded_groups for g in groups if g in nodes):
            continue
        alt = [value["@value"] for value in node.get(SKOS + "altLabel", [])]
        terms[short(uri)] = Term("physh", short(uri), label(node), alt)
    for uri, node in nodes.items():
        me = short(uri)
        for broader in ids(node, SKOS + "broader"):
            if short(broader) in terms and me in terms:
                _add_child(terms, short(broader), me)
        for narrower in ids(node, SKOS + "narrower"):
            if short(narrower) in terms and me in terms:
                _add_child(terms, me, short(narrower))
    # Children whose parent was excluded (a facet's subtree) go too.
    excluded_roots = [
        short(uri)
        for uri, node in nodes.items()
        if short(uri) not in terms
        and any(
            label(nodes[g]) in excluded_groups
            for g in ids(node, PHYSH + "inFacet") + ids(node, PHYSH + "inDiscipline")
            if g in nodes
        )
    ]
    for root in excluded_roots:
        for child in ids(nodes[f"https://doi.org/10.29172/{root}"], SKOS + "narrower"):
            terms.pop(short(child), None)
    return terms


def read_mesh(data: bytes, review: dict) -> dict[str, Term]:
    """MeSH descriptors under the reviewed roots, `depth` levels down, keyed by
    tree number (the first one under a root)."""
    by_tree: dict[str, str] = {}
    for line in data.decode("utf-8-sig").splitlines():
        if ";" in line:
            label, tree = line.rsplit(";", 1)
            by_tree[tree.strip()] = label.strip()
    depth = int(review.get("depth", 2))
    terms: dict[str, Term] = {}
    for root in review.get("roots", []):
        if root not in by_tree:
            raise SystemExit(f"review.toml: MeSH root {root} is not in the tree file")
        base = root.count(".")
        for tree in sorted(by_tree):
            if tree == root or tree.startswith(root + "."):
                if tree.count(".") - base > depth:
                    continue
                terms.setdefault(tree, Term("mesh", tree, by_tree[tree]))
                parent = tree.rsplit(".", 1)[0]
                if tree != root and parent in terms:
                    _add_child(terms, parent, tree)
        terms[root].top = False
    return terms


# --- Normalising labels to concepts.toml's spelling rules --------------------

# Plurals the engine's stemmer does not fold, and words that only look plural.
IRREGULAR = {
    "nuclei": "nucleus", "spectra": "spectrum", "phenomena": "phenomenon",
    "gases": "gas", "lenses": "lens", "analyses": "analysis", "matrices": "matrix",
    "vertices": "vertex", "indices": "index", "radii": "radius", "nebulae": "nebula",
    "supernovae": "supernova", "novae": "nova", "maxima": "maximum", "minima": "minimum",
    "quanta": "quantum", "bacteria": "bacterium", "fungi": "fungus", "loci": "locus",
    "foci": "focus", "vortices": "vortex", "helices": "helix", "tori": "torus",
    "media": "medium", "criteria": "criterion", "haloes": "halo", "halos": "halo",
    "diagnoses": "diagnosis", "syntheses": "synthesis", "hypotheses": "hypothesis",
    "theses": "thesis", "axes": "axis", "neuroses": "neurosis", "psychoses": "psychosis",
    "sclerosis": "sclerosis", "dynamos": "dynamo", "viruses": "virus",
    "volcanoes": "volcano", "hypernovae": "hypernova", "quarkonia": "quarkonium",
    "aurorae": "aurora", "coronae": "corona", "comae": "coma", "biogases": "biogas",
    "ephemerides": "ephemeris", "neurofibromatoses": "neurofibromatosis",
    "antennae": "antenna", "formulae": "formula", "larvae": "larva", "algae": "alga",
    "mitochondria": "mitochondrion", "genera": "genus", "strata": "stratum",
}  # fmt: skip
NOT_PLURAL = {
    "series", "species", "physics", "news", "gas", "lens", "bias", "chaos", "cosmos",
    "plus", "atlas", "mass", "class", "glass", "gauss", "lotus", "virus", "corpus",
    "status", "apparatus", "nexus", "campus", "thesis", "basis", "analysis",
    "synthesis", "genesis", "diagnosis", "sclerosis", "fibrosis", "osis", "axis",
    "its", "this", "has", "was", "does", "always", "perhaps", "mathematics",
    "economics", "dynamics", "kinetics", "optics", "electronics", "mechanics",
    "statistics", "genetics", "genomics", "proteomics", "metabolomics",
    "thermodynamics", "hydrodynamics", "magnetohydrodynamics", "aerodynamics",
    "acoustics", "photonics", "spintronics", "robotics", "informatics", "linguistics",
    "ethics", "logistics", "politics", "semantics", "ergonomics", "epigenetics",
    "bioinformatics", "cybernetics", "astrophysics", "geophysics", "biophysics",
    "electrodynamics", "chromodynamics", "hydraulics", "plasmonics", "magnonics",
    "valleytronics", "optomechanics", "energetics", "biomechanics", "heuristics",
    "graphics", "topics", "tropics", "diabetes", "herpes", "rabies", "measles",
    "mumps", "dais", "iris", "pelvis", "testis", "cirrhosis", "psoriasis",
    "tuberculosis", "malaria", "alias", "canvas", "various", "previous", "numerous",
    "homogeneous", "heterogeneous", "continuous", "autonomous", "amorphous",
    "analogous", "anomalous", "porous", "gaseous", "aqueous", "nervous", "ferrous",
    "ubiquitous", "indigenous", "spontaneous", "simultaneous", "miscellaneous",
    "endogenous", "exogenous", "infectious", "hazardous", "cancerous", "fibrous",
    "mucous", "vitreous", "cutaneous", "subcutaneous", "percutaneous", "venous",
    "arduous", "monstrous", "mars", "ceres", "deimos", "phobos", "pallas",
    "eros", "biogas", "uranus", "venus", "kinesis", "metastasis", "osmosis",
    "meiosis", "mitosis", "thrombosis", "apoptosis", "homeostasis", "symbiosis",
}  # fmt: skip
HYPHENS = re.compile(r"[\-\u2010\u2011\u2012\u2013\u2014]")
REFUSED_CHARACTERS = re.compile(r"[&,;:()\[\]/{}<>\"+=|*@#%?!]")
ACRONYM = re.compile(r"^[A-Z0-9][A-Za-z0-9\-]*[A-Z0-9]s?$")


def singular(word: str) -> str:
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in NOT_PLURAL or len(word) <= 3 or not word.endswith("s"):
        return word
    if word.endswith(("ss", "us", "is", "ics", "ous", "'s")):
        return word
    if word.endswith("lenses"):
        return word[:-2]  # "microlenses"
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def normalise(label: str, *, uninvert: bool = False) -> str | None:
    """`label` written by concepts.toml's rules, or None if it cannot be ("&", commas…).

    "Hot Jupiters" -> "hot jupiter", "Equations of state" -> "equation of state",
    "X-ray binaries" -> "x ray binary"; with `uninvert` (MeSH headings)
    "Diagnosis, Computer-Assisted" -> "computer assisted diagnosis"."""
    text = unicodedata.normalize("NFC", label).strip().replace("\u2019", "'")
    if uninvert and text.count(",") == 1:
        head, _, qualifier = text.partition(",")
        text = f"{qualifier.strip()} {head.strip()}"
    if REFUSED_CHARACTERS.search(text):
        return None
    text = HYPHENS.sub(" ", text).lower()
    words = text.split()
    if not words:
        return None
    # The head noun: the word before "of" ("equations of state"), else the last word.
    head = words.index("of") - 1 if "of" in words[1:] else len(words) - 1
    if head >= 0:
        words[head] = singular(words[head])
    return " ".join(words)


def is_acronym(label: str) -> bool:
    """Written as an acronym: "AGN", "WIMPs", "3D" (not "X-ray")."""
    word = label.strip()
    return " " not in word and bool(ACRONYM.match(word)) and sum(c.isupper() for c in word) >= 2


# --- The graph ---------------------------------------------------------------


@dataclass
class Concept:
    label: str
    sources: list[str] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # phrase -> source id
    narrower: dict[str, str] = field(default_factory=dict)  # phrase -> source id
    notes: dict[str, str] = field(default_factory=dict)  # phrase -> the vocabulary's label


class Builder:
    def __init__(self, review: dict, curated: dict, reviewed: dict) -> None:
        # Imported here so that `--help` works without the engine on the path.
        from digest.matching.analysis import stems_of
        from digest.matching.concepts import build

        self.stems_of = stems_of
        self.review = review
        self.curated = curated
        self.reviewed_data = reviewed
        # Phrases are compared as the engine will see them: with the curated
        # acronyms too ("kernel ridge regression" is #krr).
        with_acronyms = dict(reviewed)
        with_acronyms["acronyms"] = {
            **{k: v["long_forms"] for k, v in curated.get("acronyms", {}).items()},
            **reviewed.get("acronyms", {}),
        }
        self.reviewed = build(with_acronyms)
        self.left_out: list[tuple[str, str, str]] = []  # (source id, phrase, why)
        self.single_words = {w.lower() for w in review["global"].get("single_words", [])}
        self.dropped_phrases = {p.lower() for p in review["global"].get("drop_phrases", [])}
        self.concepts: dict[tuple[str, ...], Concept] = {}
        self.group_of: dict[tuple[str, ...], tuple[str, ...]] = {}  # derived synonym -> key
        # The reviewed file's phrases, by canonical stems.
        self.reviewed_group = {member: group for member, group in self.reviewed.synonyms.items()}
        self.reviewed_narrower = self.reviewed.narrower
        self.reviewed_topics = {
            topic: broad for broad, topics in self.reviewed.narrower.items() for topic in topics
        }

    def canon(self, phrase: str) -> tuple[str, ...]:
        return self.reviewed.canonical(self.stems_of(phrase))

    def note(self, source_id: str, phrase: str, why: str) -> None:
        self.left_out.append((source_id, phrase, why))

    # A phrase a paper's text may be matched on, alone, in every field of arXiv.
    def usable(self, phrase: str | None, label: str, source_id: str) -> bool:
        if phrase is None:
            self.note(source_id, label, "a heading (&, commas or parentheses)")
            return False
        words = phrase.split()
        if len(words) > MAX_WORDS:
            self.note(source_id, phrase, f"more than {MAX_WORDS} words")
            return False
        if phrase in self.dropped_phrases:
            self.note(source_id, phrase, "dropped on review (ambiguous or ordinary)")
            return False
        if is_acronym(label):
            self.note(source_id, label, "a bare acronym (acronyms are curated)")
            return False
        if len(words) == 1 and phrase not in self.single_words:
            self.note(source_id, phrase, "a single word not reviewed as distinctive")
            return False
        if all(len(w) <= 2 for w in words):
            self.note(source_id, phrase, "too short")
            return False
        if words[0] in ORDINARY_FIRST or "a" in words or "an" in words:
            self.note(source_id, phrase, 'starts with an ordinary word ("a star", "be star")')
            return False
        if words[-1] in HEADING_WORDS:
            self.note(source_id, phrase, "a heading of a list (types, categories…)")
            return False
        return True

    def concept(self, label: str) -> Concept:
        key = self.canon(label)
        # A label that is a member of a reviewed group is that group's concept.
        if key not in self.concepts:
            self.concepts[key] = Concept(label)
        return self.concepts[key]

    def _expansion(self, key: tuple[str, ...]) -> list[tuple[str, ...]]:
        """What the engine will expand the concept `key` to: group, then narrower."""
        group = list(self.reviewed_group.get(key, (key,)))
        concept = self.concepts.get(key)
        if concept:
            group += [self.canon(s) for s in concept.synonyms]
        narrower = [t for member in group for t in self.reviewed_narrower.get(member, ())]
        if concept:
            narrower += [self.canon(t) for t in concept.narrower]
        return list(dict.fromkeys(group + narrower))

    def add_synonym(self, label: str, synonym: str, source_id: str, original: str) -> str | None:
        """Add `synonym` to the group of `label`; None if added, else why not ("" when
        the group has it already)."""
        key, other = self.canon(label), self.canon(synonym)
        if other == key:
            return ""  # the same phrase once stemmed ("Re-ionization")
        why = None
        if other in self.reviewed_group and self.reviewed_group[other] != self.reviewed_group.get(
            key
        ):
            why = "in another reviewed synonym group"
        if why is None and len(other) == 1 and other[0].startswith("#") and other != key:
            why = "a reviewed acronym's concept"
        if why is None and (other in self.reviewed_topics or other in self.reviewed_narrower):
            why = "a reviewed narrower relation"
        if why is None and self.group_of.get(other, key) != key:
            why = "already a synonym of another concept"
        if why is None and other in self.concepts and other != key:
            why = "another concept's label"
        if why is None and other in self._expansion(key):
            return ""
        limit = MAX_EXPANSION if source_id == CURATED_SOURCE else VOCABULARY_EXPANSION
        if why is None and len(self._expansion(key)) >= limit:
            why = f"over the {limit} phrases a vocabulary or the curated part fills"
        if why:
            self.note(source_id, synonym, f"synonym of {label!r}: {why}")
            return why
        concept = self.concept(label)
        concept.synonyms[synonym] = source_id
        if original:
            concept.notes[synonym] = original
        self.group_of[other] = key
        self.group_of.setdefault(key, key)
        return None

    def add_narrower(self, label: str, topic: str, source_id: str, original: str) -> str | None:
        """Add `topic` under `label`; None if added, else why not ("" if there already)."""
        key, other = self.canon(label), self.canon(topic)
        expansion = self._expansion(key)
        why = None
        if other in expansion:
            return ""
        for member in expansion[: len(self.reviewed_group.get(key, (key,)))] or [key]:
            if _contains(other, member):
                why = "redundant: it contains the concept's words"
                break
        if (
            why is None
            and other in self.reviewed_group
            and key in self.reviewed_group.get(other, ())
        ):
            why = "a reviewed synonym"
        if why is None and key in self._expansion(other)[1:]:
            why = "a cycle (the topic is broader)"
        limit = MAX_EXPANSION if source_id == CURATED_SOURCE else VOCABULARY_EXPANSION
        if why is None and len(expansion) >= limit:
            why = f"over the {limit} phrases a vocabulary or the curated part fills"
        if why:
            self.note(source_id, topic, f"narrower of {label!r}: {why}")
            return why
        concept = self.concept(label)
        concept.narrower[topic] = source_id
        if original:
            concept.notes[topic] = original
        return None

    # --- sources --

    def add_curated(self) -> None:
        errors = []
        for label, entry in self.curated.get("concept", {}).items():
            self._require_normalised(label)
            concept = self.concept(label)
            if CURATED_SOURCE not in concept.sources:
                concept.sources.append(CURATED_SOURCE)
            for synonym in entry.get("synonyms", []):
                self._require_normalised(synonym)
                why = self.add_synonym(label, synonym, CURATED_SOURCE, "")
                if why:
                    errors.append(f"curated.toml: {label!r} = {synonym!r}: {why}")
            for topic in entry.get("narrower", []):
                self._require_normalised(topic)
                why = self.add_narrower(label, topic, CURATED_SOURCE, "")
                if why:
                    errors.append(f"curated.toml: {label!r} > {topic!r}: {why}")
        if errors:
            raise SystemExit("\n".join(errors))

    def _require_normalised(self, phrase: str) -> None:
        if phrase != phrase.lower() or HYPHENS.search(phrase) or "  " in phrase:
            raise SystemExit(f"curated.toml: {phrase!r} breaks the spelling rules")

    def add_vocabulary(self, terms: dict[str, Term], decisions: dict) -> None:
        source = next(iter(terms.values())).source if terms else ""
        uninvert = source == "mesh"
        drop = set(decisions.get("drop_concepts", []))
        drop_subtrees = set(decisions.get("drop_subtrees", []))
        keep_top = set(decisions.get("keep_top", []))
        drop_edges = {tuple(edge) for edge in decisions.get("drop_edges", [])}
        drop_alt = {
            a.lower()
            for a in [*self.review["global"].get("drop_alt", []), *decisions.get("drop_alt", [])]
        }
        attach = decisions.get("attach", {})  # id -> the reviewed concept it is

        by_label: dict[str, list[str]] = defaultdict(list)
        for uid, term in terms.items():
            by_label[normalise(term.label, uninvert=uninvert) or term.label.lower()].append(uid)

        def resolve(name: str) -> str:
            """An id, the start of one (PhySH's UUIDs are long: 8 characters will do),
            or the concept's label written by the spelling rules."""
            if name in terms:
                return name
            found = by_label.get(name) or [uid for uid in terms if uid.startswith(name)]
            if len(found) != 1:
                raise SystemExit(f"review.toml: {source} {name!r} names {len(found)} concepts")
            return found[0]

        drop = {resolve(p) for p in drop}
        pending = [resolve(p) for p in drop_subtrees]
        while pending:
            uid = pending.pop()
            if uid not in drop:
                drop.add(uid)
                pending += terms[uid].children
        keep_top = {resolve(p) for p in keep_top}
        drop_edges = {(resolve(a), resolve(b)) for a, b in drop_edges}
        attach = {resolve(p): label for p, label in attach.items()}

        def sid(uid: str) -> str:
            return f"{source}:{uid}"

        rename = decisions.get("rename", {})

        def phrase_of(uid: str) -> str | None:
            term = terms[uid]
            phrase = normalise(term.label, uninvert=uninvert)
            phrase = rename.get(phrase, phrase)
            if uid in drop:
                self.note(sid(uid), term.label, "dropped on review")
                return None
            return phrase if self.usable(phrase, term.label, sid(uid)) else None

        phrases = {uid: phrase_of(uid) for uid in terms}
        # Labels used by two concepts of one vocabulary are ambiguous: neither is used.
        by_phrase: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for uid, phrase in phrases.items():
            if phrase:
                by_phrase[self.canon(phrase)].append(uid)
        alt_owners: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for uid, term in terms.items():
            for alt in term.alt:
                alt_phrase = normalise(alt, uninvert=uninvert)
                if alt_phrase:
                    alt_owners[self.canon(alt_phrase)].add(uid)

        def importance(uid: str) -> tuple:
            return (-len(terms[uid].children) - len(terms[uid].alt), terms[uid].label.lower())

        order = sorted(terms, key=lambda uid: (terms[uid].top is False, terms[uid].label))
        for uid in order:
            term = terms[uid]
            label = attach.get(uid) or phrases[uid]
            if not label:
                continue
            if term.top and uid not in keep_top and uid not in attach:
                self.note(sid(uid), label, "a top concept (a heading), too broad as a key")
                continue
            if uid not in attach and len(by_phrase[self.canon(label)]) > 1:
                self.note(sid(uid), label, "two concepts of the vocabulary share this label")
                continue
            concept = self.concept(label)
            if sid(uid) not in concept.sources:
                concept.sources.append(sid(uid))
            for alt in term.alt:
                alt_phrase = normalise(alt, uninvert=uninvert)
                if alt.lower() in drop_alt or (alt_phrase or "") in drop_alt:
                    self.note(sid(uid), alt, f"synonym of {label!r}: dropped on review")
                    continue
                if not self.usable(alt_phrase, alt, sid(uid)):
                    continue
                if len(alt_owners[self.canon(alt_phrase)]) > 1:
                    self.note(sid(uid), alt, "an alternative label of two concepts")
                    continue
                if (
                    self.canon(alt_phrase) in by_phrase
                    and uid not in by_phrase[self.canon(alt_phrase)]
                ):
                    self.note(sid(uid), alt, "another concept's preferred label")
                    continue
                self.add_synonym(label, alt_phrase, sid(uid), alt)
            for child in sorted(term.children, key=importance):
                if (uid, child) in drop_edges:
                    self.note(sid(child), terms[child].label, f"narrower of {label!r}: dropped")
                    continue
                topic = phrases.get(child)
                if not topic or len(by_phrase[self.canon(topic)]) > 1:
                    continue
                self.add_narrower(label, topic, sid(child), terms[child].label)

    def acronyms(self) -> dict[str, dict]:
        found = {}
        omitted = set(self.review["global"].get("omitted_acronyms", []))
        reviewed = self.reviewed_data.get("acronyms", {})
        long_forms = {
            self.canon(f) for forms in reviewed.values() for f in forms if len(f.split()) > 1
        }
        for acronym, entry in self.curated.get("acronyms", {}).items():
            if acronym in reviewed or acronym in omitted:
                raise SystemExit(f"curated.toml: acronym {acronym!r} is reviewed in concepts.toml")
            for form in entry["long_forms"]:
                self._require_normalised(form)
                if self.canon(form) in long_forms:
                    raise SystemExit(f"curated.toml: {form!r} is another acronym's long form")
            found[acronym] = entry
        return found


def _contains(phrase: tuple[str, ...], part: tuple[str, ...]) -> bool:
    size = len(part)
    return any(phrase[i : i + size] == part for i in range(len(phrase) - size + 1))


# --- Writing -----------------------------------------------------------------


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write(builder: Builder, acronyms: dict, inputs: dict[str, Input], command: str) -> str:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for concept in builder.concepts.values():
        for relation in ("synonyms", "narrower"):
            for source_id in getattr(concept, relation).values():
                counts[source_id.split(":")[0]][relation] += 1
    for entry in acronyms.values():
        counts[entry["source"].split(":")[0]]["acronyms"] += 1
    lines = [
        "# The engine's concept graph, derived: DO NOT EDIT BY HAND.",
        "# Written by digest/matching/vocabulary/build.py from the vocabularies named in",
        "# [sources], as reviewed in vocabulary/review.toml, and from vocabulary/curated.toml.",
        "# concepts.py loads it with concepts.toml; the reviewed concepts.toml always wins.",
        "#",
        "# Rebuild (no network; the snapshots are git directories fetched beforehand):",
        *[f"#   {line}" for line in command.splitlines()],
        "#",
        "# Licence: the UAT entries are adapted from the Unified Astronomy Thesaurus",
        "# (American Astronomical Society), CC BY-SA 3.0, so this file as a whole is",
        "# offered under CC BY-SA 3.0 too. PhySH (APS) is CC0 1.0; MeSH (NLM) is a U.S.",
        "# Government work; MeSH 2014 was used and has been modified (selected and",
        "# normalised), which NLM's terms ask to say.",
        "#",
        '# Entries: [concept."label"] with `source` (where the label comes from), and',
        "# .synonyms / .narrower tables of phrase = source id (`uat:353` is",
        "# http://astrothesaurus.org/uat/353; `physh:<uuid>` is https://doi.org/10.29172/<uuid>;",
        "# `mesh:<tree number>`; `curated`). A comment gives the vocabulary's own label.",
        "# Counts: "
        + "; ".join(
            f"{source} " + ", ".join(f"{n} {relation}" for relation, n in sorted(c.items()))
            for source, c in sorted(counts.items())
        ),
        "",
        "[sources]",
    ]
    for name, meta in SOURCES.items():
        found = inputs.get(name)
        fields = dict(meta)
        if found:
            fields["snapshot"] = found.commit or "(a file, not a git snapshot)"
            fields["file"] = found.path
            fields["sha256"] = found.sha256
        body = ", ".join(f"{k} = {_quote(v)}" for k, v in fields.items() if v)
        lines.append(f"{name} = {{ {body} }}")
    lines += [
        "",
        "# Acronyms reviewed by hand (concepts.toml's rules: one research sense each).",
        "[acronyms]",
    ]
    for acronym, entry in sorted(acronyms.items()):
        forms = ", ".join(_quote(f) for f in entry["long_forms"])
        lines.append(
            f"{_quote(acronym) if not acronym.isalpha() else acronym} = "
            f"{{ long_forms = [{forms}], source = {_quote(entry['source'])} }}"
        )
    for concept in sorted(builder.concepts.values(), key=lambda c: c.label):
        if not concept.synonyms and not concept.narrower:
            continue
        lines += ["", f"[concept.{_quote(concept.label)}]"]
        lines.append(f"source = {_quote(' '.join(concept.sources) or 'concepts.toml')}")
        for relation in ("synonyms", "narrower"):
            entries = getattr(concept, relation)
            if not entries:
                continue
            lines.append(f"[concept.{_quote(concept.label)}.{relation}]")
            for phrase, source_id in entries.items():
                original = concept.notes.get(phrase)
                comment = f"  # {original}" if original and original.lower() != phrase else ""
                lines.append(f"{_quote(phrase)} = {_quote(source_id)}{comment}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uat", required=True, help="UAT.json (file or GITDIR@COMMIT:PATH)")
    parser.add_argument("--physh", required=True, help="physh.json.gz")
    parser.add_argument("--mesh", required=True, help="mtrees2014.bin(.gz)")
    parser.add_argument("--output", default=str(OUTPUT))
    parser.add_argument("--report", help="write what was left out, and why, to this file")
    parser.add_argument("--check", action="store_true", help="fail if --output would change")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    review = tomllib.loads(REVIEW.read_text(encoding="utf-8"))
    curated = tomllib.loads(CURATED.read_text(encoding="utf-8"))
    reviewed = tomllib.loads(REVIEWED.read_text(encoding="utf-8"))
    inputs = {"uat": read_input(args.uat), "physh": read_input(args.physh)}
    inputs["mesh"] = read_input(args.mesh)

    builder = Builder(review, curated, reviewed)
    builder.add_curated()  # first: hand-written entries take the places first
    builder.add_vocabulary(read_uat(inputs["uat"].data), review.get("uat", {}))
    builder.add_vocabulary(read_physh(inputs["physh"].data, review.get("physh", {})),
                           review.get("physh", {}))  # fmt: skip
    builder.add_vocabulary(read_mesh(inputs["mesh"].data, review.get("mesh", {})),
                           review.get("mesh", {}))  # fmt: skip
    acronyms = builder.acronyms()

    command = (
        "python -m digest.matching.vocabulary.build \\\n"
        f"  --uat {args.uat} \\\n  --physh {args.physh} \\\n  --mesh {args.mesh}"
    )
    text = write(builder, acronyms, inputs, command)
    output = Path(args.output)
    if args.check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            print(f"{output} is not what build.py writes from these sources", file=sys.stderr)
            return 1
    else:
        output.write_text(text, encoding="utf-8")
    if args.report:
        with open(args.report, "w", encoding="utf-8") as report:
            for source_id, phrase, why in builder.left_out:
                report.write(f"{source_id}\t{phrase}\t{why}\n")
    kept = sum(1 for c in builder.concepts.values() if c.synonyms or c.narrower)
    print(f"{kept} concepts written to {output}; {len(builder.left_out)} candidates left out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
