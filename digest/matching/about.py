"""Is a paper about what an interest names, or does it only mention it?

A paper is in a digest because it is about the interest: it says so in its title, in
a sentence that says what the paper itself does ("we propose …", "this paper …",
"here we …", "an algorithm is developed", or the name its title gives the work as
the subject: "Mana: …" then "Mana employs …"), or in more than one sentence. One
background sentence that names the topic ("… are fundamental to our understanding of
dark matter"), an example ("for example, kilonovae accompanying gravitational
waves") or a negated mention ("without reinforcement learning", "no RL", "does not
require …", "RL-free") does not make it so; nor does what the work is compared with
("we outperform … recent diffusion models"), one finding of a numbered list, a
mention deep in the first sentence or in others' work ("it has been shown that …"),
a phenomenon's adjective naming a device ("superconducting quantum processors"), or
a code as a system of matter ("the topological phase of the surface code"). A
title's word alone must stand for the topic ("distillation through attention" does
not) and be used by the abstract too; a noun inside a task phrase makes another task
("speech emotion recognition").

Pure functions over an analyzed field (analysis.Field): its sentences and what
each mention's neighbours say, computed once per field when first asked.
"""

import re
from functools import lru_cache
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
# "a reinforcement learning algorithm is developed", "the proposed method": the
# passive voice of an abstract says what the paper itself does too.
# Not "is employed" or "is used": what a work uses is not always what it is about
# ("an accelerator is employed, which can be developed … by an LLM-aided design").
_OWN_PASSIVE = frozenset(
    {"proposed", "developed", "presented", "introduced", "designed", "devised", "formulated"}
)
_IS_ARE = frozenset({"is", "are"})
# Words after a comma that go on with a clause, not a list: "X, which …".
_CLAUSE_AFTER_COMMA = frozenset(
    {"which", "where", "who", "whose", "whereby", "while", "whereas", "thereby", "thus"}
    | {"enabling", "allowing", "achieving", "yielding", "leading", "resulting", "making"}
)
# "our understanding of X" is everyone's, not the paper's own work.
_NOT_OWN_AFTER = frozenset({"understanding", "knowledge", "view", "picture", "current"})
# A mention that is one of several things named: "X, Y and Z", "both A and X".
_COORDINATING = frozenset({"and", "or", "nor"})
# Where a sentence ends: . ! or ? (and any closing quote or bracket), then space.
_END = re.compile(r"[.!?][\"')\]]*\s")
_ABBREVIATIONS = frozenset({"e", "g", "i", "al", "fig", "figs", "eq", "eqs", "vs", "etc", "cf"})
# Words that make what follows them in a sentence a baseline or a point of comparison:
# "we outperform … recent diffusion models", "compared with RL", "better than GANs".
_COMPARING = frozenset(
    {"outperform", "outperforms", "outperforming", "outperformed", "exceed", "exceeds"}
    | {"exceeding", "exceeded", "surpass", "surpasses", "surpassing", "surpassed"}
    | {"compared", "versus", "vs", "than", "beat", "beats", "beating", "rival", "rivals"}
    | {"rivaling", "baseline", "baselines"}
)
# What only a physical system has: "the topological phase of X", "ground states of X".
_STATES_OF_MATTER = frozenset(
    {("topological", "phase"), ("topological", "phases"), ("quantum", "phase")}
    | {("quantum", "phases"), ("ground", "state"), ("ground", "states")}
)
# How far into the abstract's first sentence a mention still sets its topic.
OPENING_WORDS = 25
# What reports others' work: "it has been shown that", "recent work", "prior studies".
_REPORTING = frozenset(
    {("shown", "that"), ("reported", "that"), ("demonstrated", "that"), ("found", "that")}
)
_EARLIER = frozenset({"recent", "prior", "previous", "earlier", "existing", "past"})
_WORKS = frozenset({"work", "works", "studies", "literature", "research"})
# What numbers the items of a list inside a sentence: (1), (ii), (c).
_ENUMERATOR = re.compile(r"[0-9]|[ivx]{1,4}|[a-h]")
# Prepositions after which a list goes on: "on medical models and on code generation".
_LIST_PREPOSITIONS = frozenset({"on", "in", "for", "to", "with", "from", "of", "at", "by"})


@lru_cache(maxsize=100_000)
def _coined(rest_of_word: str) -> bool:
    """Capitals or digits after a word's first letter ("A2World", "GLIP"): a name."""
    return any(c.isupper() or c.isdigit() for c in rest_of_word)


class Mention(NamedTuple):
    field: str  # "title" or "abstract"
    start: int  # positions in that field, end exclusive
    end: int
    # 0: the phrase as it is; 1: words inside or a title's head alone; 2: a narrower
    # topic that counts only in context (concepts.toml's narrower_in_context)
    strength: int
    # of a narrower topic ("self-attention" for attention mechanisms), not the phrase
    narrower: bool = False


# How many words before a mention as_matter reads ("the topological phase of X").
_MATTER_REACH = 5
_DISCOUNT_REACH = max(NEGATION_REACH, _MATTER_REACH)


def _of_matter(before: list[str]) -> bool:
    """as_matter, given the _MATTER_REACH words before the mention."""
    before = [w for w in before if w not in ("the", "a", "an")]
    if len(before) < 3 or before[-1] != "of":
        return False
    pair = (before[-3], before[-2])
    return pair[1] in ("hamiltonian", "hamiltonians") or pair in _STATES_OF_MATTER


class Layout:
    """A field's sentences and the words around each position."""

    __slots__ = (
        "coined",
        "commas",
        "enumerators",
        "folded",
        "order",
        "own",
        "runs",
        "sentence",
        "words",
    )

    def __init__(self, field: Field) -> None:
        tokens, text = field.tokens, field.text
        self.folded: dict[int, str] = {t.position: t.folded for t in tokens}
        # The same by position in a list (None where punctuation is), and where the run
        # of words without punctuation that has each position starts (-1: none): what
        # _before reads, for every mention of every interest, as one slice.
        size = tokens[-1].position + 1 if tokens else 0
        words: list[str | None] = [None] * size
        runs: list[int] = [-1] * size
        # the positions of the first sentence's words, in order
        order: list[int] = []
        sentence: dict[int, int] = {}
        commas: set[int] = set()  # positions of words a comma follows
        # positions of coined names: capitals or digits after the first letter ("A2World")
        coined: set[int] = set()
        # sentence -> positions of its list markers: "(1)", "(ii)", "(c)"
        enumerators: dict[int, list[int]] = {}
        own: list[bool] = [False]
        number, run, last = 0, -1, len(tokens) - 1
        previous = None
        # One pass, locals only: every field a clause asks about gets its layout.
        for i, token in enumerate(tokens):
            word, position, start, end = token.folded, token.position, token.start, token.end
            if not position or words[position - 1] is None:
                run = position
            words[position] = word
            runs[position] = run
            if previous is not None:
                between = text[previous.end : start]
                # A single space, most separators, is neither a comma nor a sentence's end.
                if between != " ":
                    if "," in between:
                        commas.add(previous.position)
                    if _END.search(between):
                        before = previous.folded
                        starts = word[:1].isdigit() or text[start].isupper()
                        if starts and before not in _ABBREVIATIONS and len(before) > 1:
                            number += 1
                            own.append(False)
            sentence[position] = number
            if _coined(text[start + 1 : end]):
                coined.add(position)
            if (
                text[start - 1 : start] == "("
                and text[end : end + 1] == ")"
                and _ENUMERATOR.fullmatch(word)
            ):
                enumerators.setdefault(number, []).append(position)
            if not number and len(order) < OPENING_WORDS:
                order.append(position)
            if (
                (
                    word in _OWN_WORDS
                    and (tokens[i + 1].folded if i < last else "") not in _NOT_OWN_AFTER
                )
                or (word in _OWN_AFTER_THIS and previous is not None and previous.folded == "this")
                or (word in _IS_ARE and i < last and tokens[i + 1].folded in _OWN_PASSIVE)
                or (word == "proposed" and previous is not None and previous.folded == "the")
            ):
                own[number] = True
            previous = token
        self.words, self.runs, self.order, self.sentence = words, runs, order, sentence
        self.commas, self.coined, self.enumerators, self.own = commas, coined, enumerators, own

    def opening(self, start: int) -> bool:
        """Whether a mention sets the topic of the abstract's first sentence: among its
        first words, not in what others have shown ("In recent work it has been shown
        that colluding AI agents …"); deep in that sentence it is background ("ABM has
        emerged …, evolving from rule-based agents to agents enhanced by RL")."""
        before = [self.folded[p] for p in self.order if p < start]
        if len(before) >= OPENING_WORDS:
            return False
        return not any(
            pair in _REPORTING or (pair[0] in _EARLIER and pair[1] in _WORKS)
            for pair in pairwise(before)
        )

    def as_matter(self, start: int) -> bool:
        """ "the topological phase of the surface code", "ground states of the surface
        code", "the Hamiltonian of …": what is named there is a physical system whose
        states are studied, not the code, method or model the words also name."""
        return _of_matter(self._before(start, _MATTER_REACH))

    def word(self, position: int) -> str | None:
        return self.folded.get(position)

    def _before(self, start: int, reach: int) -> list[str]:
        """The words before `start` in its clause (no punctuation between), nearest last."""
        position = start - 1
        if position < 0 or position >= len(self.runs) or (run := self.runs[position]) < 0:
            return []
        return self.words[max(run, start - reach) : start]

    def negated(self, start: int, end: int) -> bool:
        """ "without RL", "no reinforcement learning", "does not require RL", "RL-free"."""
        return self._negated_after(self._before(start, NEGATION_REACH), start, end)

    def _negated_after(self, before: list[str], start: int, end: int) -> bool:
        for i, word in enumerate(before):
            following = before[i + 1] if i + 1 < len(before) else self.folded.get(start)
            if word in NEGATIONS and following not in ("only", "just", "merely", "least"):
                return True
            if (word, following) in _NEGATING_PAIRS:
                return True
        return self.folded.get(end) == "free"

    def discounted(self, start: int, end: int) -> bool:
        """negated(start, end) or as_matter(start), the words before read once: asked of
        every mention an interest finds."""
        before = self._before(start, _DISCOUNT_REACH)
        return self._negated_after(before[-NEGATION_REACH:], start, end) or _of_matter(
            before[-_MATTER_REACH:]
        )

    def listed(self, start: int, end: int) -> bool:
        """ "dark matter, galaxy formation and …", "both dense and MoE models", "on A and
        on B": one of several things a sentence names."""
        before = self.folded.get(start - 1)
        return (
            self.folded.get(end) in _COORDINATING
            or before in _COORDINATING
            or (before in _LIST_PREPOSITIONS and self.folded.get(start - 2) in _COORDINATING)
            or (end - 1 in self.commas and not self._goes_on(end + 1))
        )

    def _goes_on(self, position: int) -> bool:
        """Whether the words after a mention's comma go on with its clause: "X, which
        …", or name it ("a diffusion world model, A2World, on …"), rather than list."""
        if self.folded.get(position) in _CLAUSE_AFTER_COMMA:
            return True
        return position in self.coined and self.folded.get(position + 1) not in _COORDINATING

    def enumerated(self, start: int) -> bool:
        """ "we find: (1) …; (5) safety-aligned RL increases cost": one item of a
        numbered list in one sentence, one finding among several."""
        markers = self.enumerators.get(self.sentence.get(start), ())
        return len(markers) >= 2 and any(p < start for p in markers)

    def compared(self, start: int) -> bool:
        """ "we exceed … as well as recent diffusion models", "better than RL": what the
        sentence compares the paper's work with, earlier in it, is not that work. Not
        past the paper's own words: "Compared with GANs, our diffusion model …"."""
        sentence = self.sentence.get(start)
        position = start - 1
        while position >= 0:
            word = self.folded.get(position)
            if word is not None:
                if self.sentence.get(position) != sentence or word in _OWN_WORDS:
                    return False
                if word in _COMPARING:
                    return True
            position -= 1
        return False

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


# Nouns of a task done on something ("speech recognition" recognises speech): a noun
# put inside such a phrase says on what instead, and makes it another task ("speech
# emotion recognition" recognises emotions, "code comment generation" writes comments).
_TASKS = frozenset(
    {"recognition", "detection", "generation", "classification", "segmentation"}
    | {"prediction", "forecasting", "estimation", "translation", "retrieval", "synthesis"}
    | {"reconstruction", "recommendation", "identification", "localization", "tracking"}
    | {"captioning", "summarization", "extraction", "verification", "completion"}
    | {"correction", "transcription", "parsing", "tagging", "labeling", "labelling"}
)
# Endings of words that qualify a task rather than name what it is done on.
_QUALIFYING = ("al", "ive", "ic", "ous", "ed", "ing", "ary", "ory", "ful", "less", "ble")
# Words that say only that the task makes or takes data: "image data generation" is
# image generation still.
_STUFF = frozenset({"data", "content", "contents", "sample", "samples"})


def another_task(shape: "Layout", before: int, inside: int) -> bool:
    """Whether the word at `inside`, between the phrase's word at `before` and its task
    noun just after it, makes it another task: "speech emotion recognition" is not speech
    recognition. Not where the phrase's word qualifies the task ("retrieval-augmented
    code generation" is still augmented generation) or the word inside does
    ("time series probabilistic forecasting")."""
    word, task = shape.folded.get(inside), shape.folded.get(inside + 1)
    if word is None or task is None or task.removesuffix("s") not in _TASKS:
        return False
    first = shape.folded.get(before) or ""
    if word in _STUFF or first.endswith(("ed", "ing")):
        return False
    return not word.endswith(_QUALIFYING)


# Words after which a title's word names the means, not the topic: "distillation
# through attention".
_MEANS = frozenset({"through", "via", "with", "using", "by"})
# Parts of a model a word names when it comes before them: "Graph Attention Network".
_PARTS = frozenset(
    {"network", "networks", "net", "nets", "layer", "layers", "module", "modules"}
    | {"block", "blocks", "unit", "units"}
)


def head_stands(title: "Layout", start: int, end: int) -> bool:
    """Whether a title's head alone ("attention" of attention mechanisms) says what
    the title is about: not the means ("distillation through attention"), nor a word
    of a model's name ("Graph Attention Network")."""
    return title.folded.get(start - 1) not in _MEANS and title.folded.get(end) not in _PARTS


# Things built or run: a phenomenon's adjective before one of them names a kind of
# device ("superconducting quantum processors"), not a study of the phenomenon.
_DEVICES = frozenset(
    {"qubit", "qubits", "processor", "processors", "hardware", "device", "devices"}
    | {"circuit", "circuits", "chip", "chips", "resonator", "resonators", "magnet"}
    | {"magnets", "cavity", "cavities", "computer", "computers", "detector", "detectors"}
    | {"sensor", "sensors", "coil", "coils", "cable", "cables", "nanowire", "nanowires"}
    | {"unit", "units", "qpu", "qpus"}  # "superconducting quantum processing units"
)


# Endings of nouns that name a phenomenon or property: superconductivity, magnetism.
_PHENOMENA = ("ity", "ism", "ance", "ence", "ness")


def may_name_a_device(written: str) -> bool:
    """Whether names_a_device can be true for an interest's last word `written` (most
    interests name no phenomenon: then no mention of theirs is asked about)."""
    return written.endswith(_PHENOMENA)


def names_a_device(shape: "Layout", end: int, written: str) -> bool:
    """Whether a mention ending at `end` is the adjective of a phenomenon the interest
    names (`written`, its last word) before a device: "superconducting quantum
    hardware" for superconductivity is the qubits' material, not the paper's topic.
    ("Quantum computing hardware" stays quantum computation: no phenomenon.)"""
    word = shape.folded.get(end - 1)
    if not word or not word.endswith("ing") or not written.endswith(_PHENOMENA):
        return False
    for gap in range(MAX_INSIDE + 1):
        if shape.folded.get(end + gap) in _DEVICES:
            return True
        if not fills(shape, end + gap):
            return False
    return False


def layout(field: Field) -> Layout:
    found = field.layout
    if found is None:
        found = field.layout = Layout(field)
    return found


def counted(mentions: list[Mention], fields: dict[str, Field]) -> list[Mention]:
    """The mentions that make the paper about the phrase; none if it only mentions it.

    Negated mentions never count, nor those of a system's states of matter ("ground
    states of the surface code": a model of matter, not a code). A title mention
    counts, and with it every other; else the abstract's count if they are in two
    sentences or more, or in one that says what the paper does (or at the start of
    its first, not reporting others' work), not as an example, one of a list or what
    the work is compared with. A narrower topic alone ("self-attention" for attention
    mechanisms) in two sentences needs one of them to say what the paper does, or a
    third: a component named twice in passing is still background."""
    kept = []
    shapes: dict[str, Layout] = {}
    for mention in mentions:
        shape = shapes.get(mention.field)
        if shape is None:
            shape = shapes[mention.field] = layout(fields[mention.field])
        if not shape.discounted(mention.start, mention.end):
            kept.append(mention)
    if any(m.field == "title" for m in kept):
        return kept
    abstract = [m for m in kept if m.field == "abstract" and m.strength == 0]
    if not abstract:
        return []
    shape = layout(fields["abstract"])
    sentences = {shape.sentence.get(m.start, 0) for m in abstract}
    if len(sentences) >= 2 and (
        len(sentences) >= 3
        or not all(m.narrower for m in abstract)
        or any(_says_the_work(shape, m.start) for m in abstract)
    ):
        return abstract
    if len(sentences) >= 2:
        return []
    (sentence,) = sentences
    own = shape.own[sentence] or _names_the_work(shape, sentence, fields.get("title"))
    if not (own or sentence == 0):
        return []
    several = len(abstract) > 1  # one item of a list that names it more than once says it
    for m in abstract:
        if shape.example(m.start) or shape.listed(m.start, m.end) or shape.compared(m.start):
            continue
        if not several and shape.enumerated(m.start):
            continue
        if own or shape.opening(m.start):
            return abstract
    return []


def _says_the_work(shape: Layout, start: int) -> bool:
    """Whether a mention is in the sentence of the paper's own work, or sets the topic
    at the start of the abstract."""
    sentence = shape.sentence.get(start, 0)
    return shape.own[sentence] or (sentence == 0 and shape.opening(start))


def counted_in_context(mentions: list[Mention], fields: dict[str, Field]) -> list[Mention]:
    """The mentions of a topic that counts only in context ("agents" in a paper on
    language models) that make the paper about it: in the title, or in two sentences
    of the abstract or more; never negated. One passing word is not enough."""
    kept = [
        mention
        for mention in mentions
        if not layout(fields[mention.field]).negated(mention.start, mention.end)
    ]
    if any(m.field == "title" for m in kept):
        return kept
    shape = layout(fields["abstract"])
    sentences = {shape.sentence.get(m.start, 0) for m in kept if m.field == "abstract"}
    return kept if len(sentences) >= 2 else []


def work_name(title: Field | None) -> tuple[str, ...]:
    """The name a title gives the paper's own work before a colon ("Mana: Dexterous
    Manipulation …", "SWE-MeM: …"), as folded words; () if it gives none."""
    if title is None:
        return ()
    name, colon, _ = title.text.partition(":")
    if not colon or not name.strip() or " " in name.strip():
        return ()
    return tuple(t.folded for t in title.tokens if t.end <= len(name))


# Words that may open a sentence before its subject: "Finally, Mana …".
_SENTENCE_ADVERBS = frozenset(
    {"then", "finally", "moreover", "further", "furthermore", "additionally", "thus"}
    | {"hence", "first", "second", "third", "next", "overall", "here", "specifically"}
)


def _names_the_work(shape: Layout, sentence: int, title: Field | None) -> bool:
    """Whether a sentence has the work the title names as its subject ("Mana employs
    …", "Finally, GLIP …"): it says what the paper itself does as "we" would. Not a
    name further in ("combining MoMa with …", "enabling GLIP to …")."""
    name = work_name(title)
    if not name:
        return False
    words = [p for p, s in shape.sentence.items() if s == sentence]
    if not words:
        return False
    start = min(words)
    if shape.folded.get(start) in _SENTENCE_ADVERBS:
        start = min((p for p in words if p > start), default=start)
    return all(shape.folded.get(start + k) == part for k, part in enumerate(name))
