"""What goes into a subscriber's digest, and the email message that carries it.

`digest_items` picks a subscriber's papers from a chunk's index (the sender),
`select_items` from any papers (the admin preview); `digest_context` is what
the templates show, for the email (`build_digest_message`, which also sets
every header in one place) and for its web copy (`web_copy_html`) alike.
"""

import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from digest import email_frames, likes, matching, personal
from digest.excerpts import excerpt
from digest.matching import like, trending
from digest.models import Delivery, Paper
from digest.sources.ids import is_arxiv_id
from digest.templatetags.digest_tags import highlight
from subscriptions import tokens
from subscriptions.emails import Email
from subscriptions.models import Subscriber

# A Reason's field for a paper the reader's model suggests (digest/personal.py); its
# interest is the reason shown ('like "…" you liked').
SUGGESTED = "suggested"


@dataclass(frozen=True)
class DigestItem:
    paper: Paper
    score: float
    reasons: tuple[matching.Reason, ...]

    @property
    def matched_interests(self) -> list[str]:
        return [reason.interest for reason in self.reasons]

    @property
    def trending(self) -> bool:
        """There for a `trending` line: among the period's most upvoted papers."""
        return any(trending.FIELD in reason.fields for reason in self.reasons)

    @property
    def suggested(self) -> bool:
        """There because the reader's model suggests it: no keyword caught it."""
        return any(SUGGESTED in reason.fields for reason in self.reasons)

    @property
    def matched_words(self) -> list[str]:
        """The words that matched, as the paper writes them, for highlighting."""
        words = (word for reason in self.reasons for word in reason.matched)
        return list(dict.fromkeys(words))


def papers_first_seen_between(start: datetime, end: datetime) -> QuerySet[Paper]:
    """The news of a window: papers Paperboy first learned of in (start, end]."""
    return Paper.objects.filter(first_seen__gt=start, first_seen__lte=end, announced_as_new=True)


def in_categories(paper: Paper | matching.Document, categories: Iterable[str]) -> bool:
    """True when `paper` is in one of `categories` (an archive like "astro-ph" counts too),
    or when no category is asked for."""
    wanted = {category.lower() for category in categories}
    return not wanted or any(
        not wanted.isdisjoint(matching.category_keys(category)) for category in paper.categories
    )


def select_items(
    interests: list[str],
    papers: Iterable[Paper],
    categories: Iterable[str] = (),
    model: personal.Model | None = None,
) -> list[DigestItem]:
    """The papers that match any interest, best first, each with why; for a reader with
    a `model`, ranked by it too, with its suggestions.

    `categories`, when given, keeps only papers in those arXiv categories.
    """
    categories = list(categories)
    by_id = {p.canonical_id: p for p in papers if in_categories(p, categories)}
    documents = map(matching.Document.of, by_id.values())
    items = [
        DigestItem(by_id[result.document_id], result.score, result.reasons)
        for result in matching.match_papers(interests, documents)
    ]
    count, line = trending.wanted(interests)
    if count:
        items = with_trending(items, _by_upvotes(by_id.values())[:count], line)
    if model is not None:
        items, _ = personalized(items, list(by_id.values()), model)
    return items


def personalized(
    items: list[DigestItem],
    universe: Sequence[Paper],
    model: personal.Model | None,
    candidates: Sequence[Paper] | None = None,
    never_suggest: Sequence[int] = (),
) -> tuple[list[DigestItem], int]:
    """`items` (every keyword match, best first) as a reader's `model` ranks them, with
    its suggestions from `candidates` (the window's papers this reader may get; None:
    all of `universe`, the whole window, whose vectors every reader of it shares); and
    how many suggestions it added. Without a model, `items` as they are. Trending
    papers keep their lead."""
    if model is None:
        return items, 0
    lead = [item for item in items if item.trending]
    keyword = [item for item in items if not item.trending]
    ranked = personal.rank(
        model,
        [item.paper for item in keyword],
        universe,
        candidates,
        exclude=[*(item.paper.id for item in lead), *never_suggest],
        # Trending papers take the email's first places.
        shown=max(settings.DIGEST_MAX_PAPERS - len(lead), 1),
    )
    if ranked is None:
        return items, 0
    by_id = {item.paper.id: item for item in keyword}
    ordered = [
        by_id.get(paper.id)
        or DigestItem(paper, 0.0, (matching.Reason(ranked.reasons[paper.id], (), (SUGGESTED,)),))
        for paper in ranked.papers
    ]
    return lead + ordered, len(ranked.reasons)


def _by_upvotes(papers: Iterable[Paper]) -> list[Paper]:
    return trending.by_upvotes(papers, ident=attrgetter("canonical_id"))


class _PerWindow:
    """What `make` gives for the sender's window (its `papers`, the same dict for every
    digest of a chunk), made once per window: the last window's only."""

    def __init__(self, make: Callable[[dict[str, Paper]], list[Paper]]) -> None:
        self.make = make
        self.papers: dict[str, Paper] | None = None
        self.made: list[Paper] = []

    def __call__(self, papers: dict[str, Paper]) -> list[Paper]:
        if self.papers is not papers:
            self.papers, self.made = papers, self.make(papers)
        return self.made


# The window's papers most upvoted first.
_ranked_by_upvotes = _PerWindow(lambda papers: _by_upvotes(papers.values()))


def with_trending(items: list[DigestItem], top: list[Paper], line: str) -> list[DigestItem]:
    """`top` (the most upvoted papers, in that order) ahead of the keyword `items`, each
    with its trending reason (a paper that also matched keeps its reasons); a paper
    is there once."""
    reason = matching.Reason(" ".join(line.split()), (), (trending.FIELD,))
    matched = {item.paper.canonical_id: item for item in items}
    lead = []
    for paper in top:
        item = matched.get(paper.canonical_id)
        if item is None:
            lead.append(DigestItem(paper, 0.0, (reason,)))
        else:
            lead.append(DigestItem(paper, item.score, (reason, *item.reasons)))
    chosen = {paper.canonical_id for paper in top}
    return lead + [item for item in items if item.paper.canonical_id not in chosen]


def digest_items(
    index: matching.PaperIndex,
    papers: dict[str, Paper],
    interests: list[str],
    categories: Iterable[str],
    *,
    window: tuple[datetime, datetime],
    whole_index: bool,
    model: personal.Model | None = None,
) -> tuple[list[DigestItem], int]:
    """The best papers of one subscriber's window, and how many matched in all.

    `index` holds the papers of a whole chunk. When the subscriber's window is
    the index's (`whole_index`, the usual case) and no category limits it, the
    engine stops at the cap; otherwise every match is checked against the
    window and categories first. A reader with a `model` gets every match ranked by
    it, and its suggestions (papers no keyword caught) count as matches.
    """
    # The web copy shows more than the email: keep that many.
    cap = max(settings.WEB_COPY_MAX_PAPERS, settings.DIGEST_MAX_PAPERS)
    categories = list(categories)
    start, end = window
    # A reader's model never suggests a paper the keywords matched beyond the cap.
    beyond: list[Paper] = []
    if whole_index and not categories:
        matches = index.match(interests, cap)
        results, total = matches.results, matches.total
        if model is not None and total > len(results):
            beyond = _matched_beyond(index, interests, results, papers)
    else:
        results = [
            r
            for r in index.match(interests).results
            if start < papers[r.document_id].first_seen <= end
            and in_categories(papers[r.document_id], categories)
        ]
        total = len(results)
        beyond = [papers[r.document_id] for r in results[cap:]] if model is not None else []
        results = results[:cap]
    items = [DigestItem(papers[r.document_id], r.score, r.reasons) for r in results]
    count, line = trending.wanted(interests)
    if not count:
        return _personalized_window(
            items, total, papers, categories, window, whole_index, model, beyond
        )
    top = []
    for paper in _ranked_by_upvotes(papers):
        if len(top) == count:
            break
        if (whole_index or start < paper.first_seen <= end) and in_categories(paper, categories):
            top.append(paper)
    # The trending papers that no keyword found add to the count.
    keyword = {r.document_id for r in results}
    added = sum(paper.canonical_id not in keyword for paper in top)
    items = with_trending(items, top, line)
    return _personalized_window(
        items, total + added, papers, categories, window, whole_index, model, beyond
    )


def _matched_beyond(
    index: matching.PaperIndex,
    interests: list[str],
    results: list[matching.Result],
    papers: dict[str, Paper],
) -> list[Paper]:
    """The papers `interests` match in `index` other than `results`: read from each
    interest's bit set (kept by the index), no result built for them."""
    union = 0
    for interest in interests:
        union |= index.papers_of(interest)[0]
    shown = {r.document_id for r in results}
    found = []
    while union:
        low = union & -union
        paper_id = index.ids[low.bit_length() - 1]
        if paper_id not in shown and paper_id in papers:
            found.append(papers[paper_id])
        union ^= low
    return found


def _personalized_window(
    items: list[DigestItem],
    total: int,
    papers: dict[str, Paper],
    categories: list[str],
    window: tuple[datetime, datetime],
    whole_index: bool,
    model: personal.Model | None,
    beyond: Sequence[Paper] = (),
) -> tuple[list[DigestItem], int]:
    """A window's items ranked by the reader's model (when they have one), capped; the
    `beyond` papers (matched past the cap) are never suggested."""
    cap = max(settings.WEB_COPY_MAX_PAPERS, settings.DIGEST_MAX_PAPERS)
    if model is None:
        return items[:cap], total
    start, end = window
    universe = _window_papers(papers)
    candidates = None  # the whole window: the usual case, no step per paper
    if not whole_index or categories:
        candidates = [
            paper
            for paper in universe
            if (whole_index or start < paper.first_seen <= end) and in_categories(paper, categories)
        ]
    items, added = personalized(items, universe, model, candidates, [p.id for p in beyond])
    return items[:cap], total + added


# The window's papers as a list: the rows of its vectors, the same for every reader.
_window_papers = _PerWindow(lambda papers: list(papers.values()))


_json_items: dict[tuple, str] = {}
_JSON_ITEMS_MAX = 50_000  # ~200 bytes each


def items_as_json(items: list[DigestItem]) -> str:
    """What a digest held, kept on its Delivery for the web copy and any resend, as JSON
    text, compactly: [canonical id, score, [[interest, [matched words], [fields]], ...]]
    per paper. An item shown the same way in many digests is serialized once."""
    found = []
    for item in items:
        key = (item.paper.canonical_id, item.score, item.reasons)
        entry = _json_items.get(key)
        if entry is None:
            reasons = [[r.interest, list(r.matched), list(r.fields)] for r in item.reasons]
            entry = json.dumps([item.paper.canonical_id, item.score, reasons])
            if len(_json_items) >= _JSON_ITEMS_MAX:
                _json_items.clear()
            _json_items[key] = entry
        found.append(entry)
    return f"[{','.join(found)}]"


def message_id(delivery: Delivery) -> str:
    """The digest's Message-ID: derived from the delivery's key, so every attempt of one
    digest carries the same one and a receiver can collapse a copy (RFC 5322 §3.6.4)."""
    site_host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<digest.{delivery.message_key.hex}@{site_host}>"


# ESPs that accept a second request with a key they have seen without sending again,
# and the message header anymail passes the key in (Brevo: kept 15 minutes).
IDEMPOTENCY_HEADERS = {
    "anymail.backends.brevo.EmailBackend": "idempotencyKey",
    "anymail.backends.sendinblue.EmailBackend": "idempotencyKey",
}


def digest_headers(unsubscribe_url: str, delivery: Delivery) -> dict[str, str]:
    """Every header a digest carries. Built only from our own values, never user input."""
    site_host = urlsplit(settings.SITE_URL).hostname or "localhost"
    headers = {
        "Message-ID": message_id(delivery),
        # RFC 8058 one-click: one https URL that takes a POST, and the POST body.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"Paperboy digest <digest.{site_host}>",
        "X-Paperboy-Delivery": str(delivery.pk),
    }
    idempotency_header = IDEMPOTENCY_HEADERS.get(settings.EMAIL_BACKEND)
    if idempotency_header:
        headers[idempotency_header] = str(delivery.message_key)
    return headers


@dataclass(frozen=True)
class RenderedItem:
    """A paper's item as HTML and text, each in pieces (the paper's own, rendered once,
    and this digest's reasons and highlights between them) up to where its feedback
    links go (they differ per digest) and from there: joined once, with them, in the
    digest, never copied to put them in."""

    html_head: tuple[str, ...]
    html_tail: tuple[str, ...]
    text_head: tuple[str, ...]
    text_tail: tuple[str, ...]

    @property
    def html(self) -> SafeString:
        """The item without feedback links."""
        return mark_safe("".join(self.html_head + self.html_tail))

    @property
    def text(self) -> str:
        return "".join(self.text_head + self.text_tail)


_rendered: dict[tuple, RenderedItem] = {}
# A rendered item holds its pieces, not copies of them (the paper's own are shared by
# every digest that shows it, the highlights and reasons by those with the same
# words): a few hundred bytes each. This bounds them to some tens of MB a process, so a
# worker's memory stays level over a dispatch of any size.
_RENDERED_MAX = 100_000


# How much of each paper an email shows (the subscriber's choice); a web copy shows
# everything: it is where a short digest's reader goes for the rest.
TITLES, SHORT, FULL = Subscriber.DigestLength.values
WEB_COPY_LENGTH = FULL
# Authors named in a titles-only or short digest; the rest are counted.
AUTHORS_SHOWN = 3


def authors_line(authors: Sequence[str], length: str) -> str:
    """The authors as a digest of `length` names them: the first few and how many more,
    except in full, where all fit in 200 characters."""
    if length == FULL or len(authors) <= AUTHORS_SHOWN + 1:
        return Truncator(", ".join(authors)).chars(200)
    return f"{', '.join(authors[:AUTHORS_SHOWN])} and {len(authors) - AUTHORS_SHOWN} more"


def paper_facts(paper: Paper) -> dict:
    """What a reader of arXiv's mailing finds on every paper: its date, its primary
    category (arXiv lists it first) and, for an arXiv paper only, its arXiv id."""
    return {
        "date": paper.published_at or paper.first_seen,
        "category": paper.categories[0] if paper.categories else "",
        "arxiv_id": paper.canonical_id if is_arxiv_id(paper.canonical_id) else "",
    }


def abstract_shown(paper: Paper, words: Sequence[str], length: str) -> str:
    """The abstract as a digest of `length` shows it: none, the sentence(s) around the
    words that matched, or whole."""
    if length == TITLES:
        return ""
    if length == FULL:
        return paper.abstract
    return excerpt(paper.abstract, words)


def silent_interests(interests: Iterable[str], items: Iterable[DigestItem]) -> list[str]:
    """The interests no item of a digest is there for, in the subscriber's order.
    Like lines (seeds) are left out: they look for no words, so no digest is "nothing
    new" for them."""

    def key(interest: str) -> str:
        return " ".join(interest.split()).casefold()

    named = {key(reason.interest) for item in items for reason in item.reasons}
    return [
        interest
        for interest in interests
        if key(interest) not in named and not like.is_like(interest)
    ]


# Stand-ins for what differs between digests showing the same paper, put in
# when the paper's item is rendered once and swapped for each digest's values. A
# random key of this process's own makes them text no feed can contain: a paper
# whose link or authors held a stand-in would get each reader's interests there.
_SLOT_KEY = secrets.token_hex(8)
_SLOTS = {
    name: f"\ue000{_SLOT_KEY}:{name}\ue000"
    for name in ("title", "abstract", "reasons", "votes_start", "votes_end", "feedback", "url")
}


# A stand-in (its name between two of them) where a paper's item is cut.
_CUT = re.compile(f"\ue000{_SLOT_KEY}:(\\w+)\ue000")

# The pieces of a paper's item, HTML and text, before and after its feedback links:
# literal text at even positions, the names of the values that go between at odd ones.
_Frame = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _frame(rendered_html: str, rendered_text: str, keep_votes: bool) -> _Frame:
    html_head, _, html_tail = _cut(rendered_html, keep_votes).partition(_SLOTS["feedback"])
    text_head, _, text_tail = _cut(rendered_text, keep_votes).partition(_SLOTS["feedback"])
    return tuple(tuple(_CUT.split(part)) for part in (html_head, html_tail, text_head, text_tail))


@lru_cache(maxsize=20_000)
def _paper_item(
    paper_pk: int, updated_at: datetime | None, paper: Paper, length: str
) -> dict[bool, _Frame]:
    """A paper's item rendered from the two item templates for a digest of `length`,
    with slots for the reasons, the title and the abstract, cut there: with its votes
    and without (a trending item names them in its reason). Once per version of the
    paper."""
    context = {
        "paper": paper,
        "length": length,
        **paper_facts(paper),
        "title_html": mark_safe(_SLOTS["title"]),
        "abstract_html": mark_safe(_SLOTS["abstract"]),
        "authors": authors_line(paper.authors, length),
        "abstract": _SLOTS["abstract"],
        "reasons": _SLOTS["reasons"],
        "votes_start": _SLOTS["votes_start"],
        "votes_end": _SLOTS["votes_end"],
        "feedback": _SLOTS["feedback"],
    }
    html = render_to_string("emails/_digest_item.html", context)
    text = render_to_string("emails/_digest_item.txt", context)
    return {keep: _frame(html, text, keep) for keep in (True, False)}


@lru_cache(maxsize=20_000)
def _marked(
    paper_pk: int, updated_at: datetime | None, paper: Paper, words: tuple[str, ...], length: str
) -> tuple[str, str, str]:
    """A paper's title and abstract as shown (HTML, with `words` highlighted) and its
    abstract as text: once per paper and words, whichever interests found them
    ("LLM" and "large language models" both find "LLMs")."""
    abstract = abstract_shown(paper, words, length)
    return highlight(paper.title, words), highlight(abstract, words), abstract


def trending_reason(paper: Paper) -> str:
    """Why a `trending` line brought a paper: its upvotes, as they are now."""
    return f"trending on Hugging Face · ▲ {paper.upvotes or 0}"


def _reasons(item: DigestItem, words: tuple[str, ...]) -> tuple[str, str]:
    """What an item is there for, as HTML and as text: trending (with its upvotes)
    and the interests that matched it (with their words, in the text)."""
    said_html, said_text = [], []
    if item.suggested:
        why = " · ".join(r.interest for r in item.reasons if SUGGESTED in r.fields)
        said_html.append(
            format_html('<strong class="suggested">Suggested for you</strong>: {}', why)
        )
        said_text.append(f"Suggested for you: {why}")
    if item.trending:
        said_html.append(escape(trending_reason(item.paper)))
        said_text.append(trending_reason(item.paper))
    interests = [
        r.interest
        for r in item.reasons
        if trending.FIELD not in r.fields and SUGGESTED not in r.fields
    ]
    if interests:
        said_html.append(escape(f"matched: {', '.join(interests)}"))
        said_text.append(f"matched: {', '.join(interests)} ({', '.join(words)})")
    return " · ".join(said_html), " · ".join(said_text)


def _cut(rendered: str, keep: bool) -> str:
    """The rendered item with its votes (between their slots) kept or left out."""
    before, _, rest = rendered.partition(_SLOTS["votes_start"])
    votes, _, after = rest.partition(_SLOTS["votes_end"])
    return before + votes + after if keep else before + after


def _filled(pieces: tuple[str, ...], values: dict[str, str]) -> tuple[str, ...]:
    if len(pieces) == 1:
        return pieces
    parts = list(pieces)
    parts[1::2] = [values[name] for name in pieces[1::2]]
    return tuple(parts)


_reasons_shown: dict[tuple, tuple[str, str]] = {}
_REASONS_MAX = 50_000


def render_item(item: DigestItem, length: str = SHORT) -> RenderedItem:
    """One paper of a digest of `length`: its item, rendered once per paper, with this
    digest's reasons, and the abstract they make it show.

    The matched words are highlighted (escaped first) and the matched interests
    named; everything else about a paper is the same in every digest. A trending
    item names its upvotes in its reason, not again after its links. The item keeps
    a slot for its feedback links, which differ per digest (digest_context).
    """
    paper = item.paper
    key = (paper.pk, paper.updated_at, item.reasons, length)
    found = _rendered.get(key)
    if found is None:
        trending = item.trending
        frame = _paper_item(paper.pk, paper.updated_at, paper, length)[not trending]
        words = tuple(item.matched_words)
        # The same reasons (interests and words) recur on many papers: said once.
        said_key = (item.reasons, paper.upvotes if trending else None)
        said = _reasons_shown.get(said_key)
        if said is None:
            if len(_reasons_shown) >= _REASONS_MAX:
                _reasons_shown.clear()
            said = _reasons_shown[said_key] = _reasons(item, words)
        reasons_html, reasons_text = said
        title_html, abstract_html, abstract = _marked(
            paper.pk, paper.updated_at, paper, words, length
        )
        html = {"title": title_html, "abstract": abstract_html, "reasons": reasons_html}
        text = {"reasons": reasons_text, "abstract": abstract}
        html_head, html_tail, text_head, text_tail = frame
        found = RenderedItem(
            _filled(html_head, html),
            _filled(html_tail, html),
            _filled(text_head, text),
            _filled(text_tail, text),
        )
        if len(_rendered) >= _RENDERED_MAX:
            _rendered.clear()
        _rendered[key] = found
    return found


@lru_cache(maxsize=1)
def _feedback_parts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The "more / less like this" links of an item, HTML and text, each cut where
    its base URL goes (twice: more/, less/)."""
    context = {"url": mark_safe(_SLOTS["url"])}
    html = render_to_string("emails/_digest_feedback.html", context).strip()
    text = render_to_string("emails/_digest_feedback.txt", context)
    return tuple(html.split(_SLOTS["url"])), tuple(text.split(_SLOTS["url"]))


def _joined(
    rendered: list[RenderedItem], items: list[DigestItem], links: Callable[[int], str] | None
) -> tuple[SafeString, str]:
    """A digest's items as HTML and numbered text, each with its feedback links, signed
    for this delivery and its paper (none when `links` is None: a test digest, which
    has no delivery). Pieces joined once: a digest's 25 items are never copied twice."""
    html: list[str] = []
    text: list[str] = []
    if links is not None:
        (h0, h1, h2), (t0, t1, t2) = _feedback_parts()
    for n, (r, item) in enumerate(zip(rendered, items, strict=True), 1):
        text.append(f"\n{n}. ")
        html += r.html_head
        text += r.text_head
        if links is not None:
            base = links(item.paper.pk)
            html += (h0, base, h1, base, h2)
            text += (t0, base, t1, base, t2)
        html += r.html_tail
        text += r.text_tail
        text.append("\n")
    return mark_safe("".join(html)), "".join(text)


def digest_context(
    subscriber: Subscriber,
    items: list[DigestItem],
    more_count: int,
    delivery_id: int,
    period: str,
    *,
    length: str = SHORT,
    silent: Sequence[str] = (),
    account_links: bool = True,
    feedback_links: bool = True,
    signed_at: datetime | None = None,
) -> dict:
    """What the digest templates show: one function for the email and its web copy.

    The papers' items are joined here, not looped over in the templates: each one is
    rendered once already (render_item), and a digest holds up to 50 of them.
    `length` says how much of each paper shows; `silent` names the interests that
    found nothing; `signed_at` dates its signed links (None: now). Manage and
    unsubscribe links (`account_links`) belong in the email only: a web copy is a link
    people forward, and must not open the account of its reader.
    """
    # A digest's own links, signed per delivery and paper: the email's, or its web
    # copy's (forwarded: they open no account); a test digest (no delivery) has none.
    kind = likes.EMAIL if account_links else likes.WEB_COPY
    # None in a group's digest (groups/): its papers are the group's choice, and a
    # member's vote would teach their own digests.
    links = likes.link_maker(delivery_id, kind) if delivery_id and feedback_links else None
    rendered = [render_item(item, length) for item in items]
    items_html, items_text = _joined(rendered, items, links)
    signed = [(tokens.WEB_COPY, delivery_id)]
    if account_links:
        signed += [(tokens.UNSUBSCRIBE, subscriber.pk), (tokens.MANAGE, subscriber.pk)]
        web_url, unsubscribe_url, manage_url = tokens.absolute_urls(signed, signed_at)
        links = {"unsubscribe_url": unsubscribe_url, "manage_url": manage_url}
    else:
        (web_url,) = tokens.absolute_urls(signed, signed_at)
        links = {"link_request_url": settings.SITE_URL + reverse("subscriptions:request_link")}
    return {
        "subscriber": subscriber,
        "items": rendered,
        "items_html": items_html,
        "items_text": items_text,
        "first_title": items[0].paper.title if items else "",
        "more_count": more_count,
        "period": period,
        "length": length,
        "silent_interests": list(silent),
        "web_url": web_url,
        **links,
    }


def build_digest_message(
    subscriber: Subscriber,
    items: list[DigestItem],
    delivery: Delivery,
    total: int | None = None,
    interests: Sequence[str] | None = None,
) -> Email:
    """The digest email: at most DIGEST_MAX_PAPERS of `items`, and "and N more" beyond,
    each paper shown as long as the subscriber chose.

    `total` is how many papers matched, when `items` holds only the best of them.
    `interests` are the subscriber's (read from the database when not given): those no
    item is there for are named at the end, when `items` holds every match; else one
    of them may have matched beyond, and nothing is said.
    """
    shown = items[: settings.DIGEST_MAX_PAPERS]
    total = len(items) if total is None else total
    if interests is None:
        interests = [interest.text for interest in subscriber.interests.all()]
    silent = silent_interests(interests, items) if items and total <= len(items) else []
    context = digest_context(
        subscriber,
        shown,
        total - len(shown),
        delivery.pk,
        delivery.period,
        length=subscriber.digest_length,
        silent=silent,
        # Dated by the claim: a resend (a retry, a worker's death) has the same links.
        signed_at=delivery.claimed_at,
    )
    context["source_note"] = delivery.source_note
    # What subscriptions.emails.build_message would render, from frames of the
    # templates rendered once per shape (digest/email_frames.py).
    subject, text, html = email_frames.render({"site_url": settings.SITE_URL, **context})
    message = Email(
        subject=subject,
        body=text,
        from_email=settings.DIGEST_FROM_EMAIL,
        to=[subscriber.email],
        headers=digest_headers(context["unsubscribe_url"], delivery),
    )
    message.attach_alternative(html, "text/html")
    # anymail passes these to the ESP: the tag groups digests in its reports, and the
    # message key (unguessable, unlike the row's id) comes back in tracking webhooks.
    message.tags = ["digest"]
    message.metadata = {"message_key": str(delivery.message_key)}
    return message


def items_from_json(entries: list[list], papers: dict[str, Paper]) -> list[DigestItem]:
    """The digest items a Delivery keeps (see items_as_json), with their `papers` (by
    canonical id); a paper that is gone is left out."""
    return [
        DigestItem(
            papers[paper_id],
            score,
            tuple(matching.Reason(i, tuple(words), tuple(fields)) for i, words, fields in reasons),
        )
        for paper_id, score, reasons in entries
        if paper_id in papers
    ]


def stored_papers(deliveries: Iterable[Delivery]) -> dict[str, Paper]:
    """The papers the stored items of `deliveries` name, by canonical id, in one query."""
    ids = {entry[0] for delivery in deliveries for entry in delivery.items}
    return Paper.objects.in_bulk(ids, field_name="canonical_id") if ids else {}


def web_copy_html(delivery: Delivery) -> str:
    """The digest of `delivery` as a page: the papers it held (and more, up to
    WEB_COPY_MAX_PAPERS), in the same order, with the same reasons."""
    items = items_from_json(delivery.items, stored_papers([delivery]))
    shown = min(len(items), settings.DIGEST_MAX_PAPERS)
    total = shown + delivery.more_count
    context = digest_context(
        delivery.subscriber,
        items,
        total - len(items),
        delivery.pk,
        delivery.period,
        length=WEB_COPY_LENGTH,
        account_links=False,
        feedback_links=delivery.group_id is None,
    )
    context["source_note"] = delivery.source_note
    return render_to_string("emails/digest.html", {**context, "web_copy": True})
