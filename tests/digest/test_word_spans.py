"""Where a word stands in a text, found with str.find on ASCII text, is where its
pattern (whole word, any case) finds it: on any text, the Unicode ones included."""

from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from hypothesis import example, given
from hypothesis import strategies as st

from digest.excerpts import excerpt, word_pattern, word_spans
from digest.templatetags.digest_tags import _marked_spans, highlight

# Letters of both cases, digits, the underscore (a word character), marks that end a
# word, and characters whose case folding differs (the Kelvin sign, the long s, the
# dotted capital I).
_ALPHABET = "aAbBkKsSiI01_ -+.()'é\u212a\u017f\u0130"
texts = st.text(alphabet=_ALPHABET, max_size=40)
words = st.text(alphabet=_ALPHABET, min_size=1, max_size=6)


def _pattern_spans(text: str, word: str) -> list[tuple[int, int]]:
    return [found.span() for found in word_pattern(word).finditer(text)]


@given(texts, words)
@example("Mixture-of-Experts and mixture-of-experts", "MIXTURE-OF-EXPERTS")
@example("LLMs, LLM-based and LLM_x", "LLM")
@example("C++ and c++x", "C++")
@example("aaa", "aa")  # never overlapping
@example("ba-a-a.", "a-a")  # the place after one refused (after "b") is found inside it
@example("Kelvin \u212aelvin", "kelvin")  # not ASCII: through the pattern
def test_word_spans_are_the_patterns_finds(text, word):
    assert word_spans(text, word) == _pattern_spans(text, word)
    assert word_spans(text, word, text.lower()) == _pattern_spans(text, word)


@given(texts, words)
def test_a_word_found_inside_a_text_sliced_from_a_word_is_the_patterns_too(text, word):
    # The word as written in the text (the engine gives it so), in any case.
    for start in range(0, len(text), 5):
        piece = text[start : start + len(word)]
        if piece.strip():
            assert word_spans(text, piece.upper()) == _pattern_spans(text, piece.upper())


def test_the_highlight_and_excerpt_of_an_abstract_find_its_words():
    abstract = (
        "We study retrieval. Retrieval-augmented generation (RAG) helps large language "
        "models answer questions; rag_index and RAGs do not count. " * 3
    )
    shown = excerpt(abstract, ["RAG"], limit=12)
    assert "(RAG)" in shown and shown.startswith("…")
    marked = highlight("RAG, rag and RAGs in a title", ["rag"])
    assert marked == "<mark>RAG</mark>, <mark>rag</mark> and RAGs in a title"


def _highlighted_by_django(text: str, words, escape=conditional_escape) -> str:
    """The highlight as Django's own escaping makes it, piece by piece."""
    parts, done = [], 0
    for start, end in _marked_spans(text, words):
        parts += [escape(text[done:start]), "<mark>", escape(text[start:end]), "</mark>"]
        done = end
    return "".join(map(str, [*parts, escape(text[done:])]))


@given(st.text(alphabet=_ALPHABET + "<>&\"'", max_size=40), st.lists(words, max_size=3))
@example('<b>"RAG"</b> & rag', ["rag"])
def test_a_highlight_is_escaped_as_djangos_escape_does(text, some_words):
    expected = _highlighted_by_django(text, some_words)
    assert highlight(text, some_words) == expected
    assert highlight(mark_safe(text), some_words) == expected
    unescaped = _highlighted_by_django(text, some_words, escape=str)
    assert highlight(text, some_words, autoescape=False) == unescaped
