"""The digest email's templates rendered once per shape, and filled in per digest.

Two digests differ in a few values: their links, their period, their papers' items
(each rendered once already, compose.render_item), the interests that found nothing.
Everything else in the text and HTML templates (the layout, the inlined styles, the
branches taken, the counts and plurals) follows from a few small values, the shape:
the length, how many papers are shown, how many more matched, how many interests
found nothing, which links there are. So each template is rendered once per shape,
with stand-ins where the values go, and cut there; a digest is those pieces joined
with its own values, escaped as the template would have escaped them. The subject is
rendered once per paper count and first title.

A value that decided a branch or went through a filter could not be a stand-in:
`render` is checked against a plain render of the same context, on random digests,
by tests/digest/test_email_frames.py, so a template edit that breaks this shows there.
"""

import re
import secrets
from functools import lru_cache

from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from subscriptions.emails import header_text

# Values that only ever appear as they are (escaped in HTML): they become stand-ins.
SLOTTED = (
    "period",
    "web_url",
    "manage_url",
    "unsubscribe_url",
    "link_request_url",
    "source_note",
    "items_html",
    "items_text",
)
# A random key of this process's own makes the stand-ins text no paper can contain.
_KEY = secrets.token_hex(8)
_CUT = re.compile(f"\ue001{_KEY}:(\\w+)\ue001")


def _slot(name: str) -> str:
    return f"\ue001{_KEY}:{name}\ue001"


def shape_of(context: dict) -> tuple:
    """What, besides the slotted values, the digest templates' output depends on."""
    return (
        context["length"],
        len(context["items"]),
        context["more_count"],
        len(context["silent_interests"]),
        tuple(name for name in SLOTTED if context.get(name)),
        bool(context.get("web_copy")),
        context["site_url"],
    )


@lru_cache(maxsize=2048)
def _frame(template_name: str, shape: tuple) -> tuple[str, ...]:
    """`template_name` rendered for `shape` and cut at its stand-ins: literal pieces at
    even positions, the names of the values between them at odd ones."""
    length, count, more_count, silent, present, web_copy, site_url = shape
    context = {
        "length": length,
        "items": [None] * count,
        "more_count": more_count,
        "silent_interests": [_slot(f"silent{n}") for n in range(silent)],
        "web_copy": web_copy,
        "site_url": site_url,
        **{name: mark_safe(_slot(name)) for name in present},
    }
    pieces = _CUT.split(render_to_string(template_name, context))
    if len(_pieces) > _PIECES_MAX:
        _pieces.clear()
    # Shapes share most of their text (the head alone, styles inlined, is ~35 KB): keep
    # one copy of each piece, not one per shape.
    return tuple(_pieces.setdefault(piece, piece) for piece in pieces)


_pieces: dict[str, str] = {}
_PIECES_MAX = 20_000


def _fill(pieces: tuple[str, ...], values: dict[str, str], escaped: bool = False) -> str:
    """The frame's pieces with `values` in their places; `escaped`, as HTML escapes
    them: only the values this frame holds (the text's items, ~10 KB, are not in it)."""
    parts = list(pieces)
    if escaped:
        parts[1::2] = [conditional_escape(values[name]) for name in pieces[1::2]]
    else:
        parts[1::2] = [values[name] for name in pieces[1::2]]
    return "".join(parts)


# What emails/digest_subject.txt keeps of the first title (its truncatechars): the
# subject is rendered once per paper count, and the title cut here (the frames test
# compares the two).
SUBJECT_TITLE_CHARS = 60


@lru_cache(maxsize=256)
def _subject_frame(count: int, titled: bool, site_url: str) -> tuple[str, ...]:
    title = _slot("first_title") if titled else ""
    context = {"items": [None] * count, "first_title": title, "site_url": site_url}
    rendered = render_to_string("emails/digest_subject.txt", context)
    return tuple(rendered.split(title)) if titled else (rendered,)


@lru_cache(maxsize=4096)
def _title_shown(first_title: str) -> str:
    return Truncator(first_title).chars(SUBJECT_TITLE_CHARS)


def subject(count: int, first_title: str, site_url: str) -> str:
    pieces = _subject_frame(count, bool(first_title), site_url)
    if not first_title:
        return header_text("".join(pieces))
    return header_text(_title_shown(first_title).join(pieces))


def render(context: dict) -> tuple[str, str, str]:
    """The subject, text and HTML of the digest `context` (compose.digest_context, with
    site_url): what rendering emails/digest_subject.txt, digest.txt and digest.html on
    it gives, the subject fit for a header."""
    shape = shape_of(context)
    raw = {name: context[name] for name in shape[4]}
    raw.update((f"silent{n}", text) for n, text in enumerate(context["silent_interests"]))
    return (
        subject(len(context["items"]), context["first_title"], context["site_url"]),
        _fill(_frame("emails/digest.txt", shape), raw),
        _fill(_frame("emails/digest.html", shape), raw, escaped=True),
    )
