"""The digest email rendered from frames (digest/email_frames.py) is, byte for byte, what
rendering its three templates on the whole context gives: for random digests of every
length, paper count, "and N more", silent interests (with markup and non-ASCII in
them), titles that a subject must clean, and for the web copy's shape too."""

import random
import uuid

import pytest
import time_machine
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from digest import compose, email_frames, matching
from digest.matching import trending
from digest.models import Delivery, Paper
from subscriptions.emails import build_message

pytestmark = pytest.mark.django_db

TITLES = [
    "Anomaly detection at scale",
    'Robust "LLM" agents & <tools> for Schrödinger bridges',
    "A title with a bidi override \u202e and a zero-width\u200b space",
    "Short",
    "A very long title " * 8,
]
INTERESTS = ["anomaly detection", "LLM agents", "<b>bold</b> & 'quoted'", "Schrödinger", "RL"]


def _papers(rng: random.Random, count: int) -> list[Paper]:
    return Paper.objects.bulk_create(
        Paper(
            canonical_id=f"2612.{n:05d}",
            title=rng.choice(TITLES),
            abstract=rng.choice(["", "We study anomaly detection. It works & <well>. " * 5]),
            authors=[f"Author {a}" for a in range(rng.randint(0, 7))],
            categories=rng.choice([[], ["cs.LG"], ["cs.CL", "cs.AI"]]),
            abs_url=f"https://arxiv.org/abs/2612.{n:05d}",
            pdf_url=rng.choice(["", f"https://arxiv.org/pdf/2612.{n:05d}"]),
            upvotes=rng.choice([0, 0, 3]),
        )
        for n in range(count)
    )


# A source's stale line (Delivery.source_note), with markup and non-ASCII in it.
NOTES = ["", "", "arXiv cs.LG has had nothing new since Monday <b>&</b> · Schrödinger"]


def _reasons(rng: random.Random) -> tuple[matching.Reason, ...]:
    matched = matching.Reason(rng.choice(INTERESTS), ("anomaly", "detection"), ("abstract",))
    # Some papers come for a `trending` line (main's trending papers), some for both.
    hot = matching.Reason("trending 3", (), (trending.FIELD,))
    return rng.choice([(matched,), (matched,), (hot,), (hot, matched)])


def _items(rng: random.Random, papers: list[Paper]) -> list[compose.DigestItem]:
    chosen = rng.sample(papers, rng.randint(0, len(papers)))
    return [compose.DigestItem(paper, 1.0, _reasons(rng)) for paper in chosen]


def _plain(subscriber, items, delivery, total, interests):
    """The message as subscriptions.emails.build_message renders the whole context."""
    shown = items[: settings.DIGEST_MAX_PAPERS]
    silent = compose.silent_interests(interests, items) if items and total <= len(items) else []
    context = compose.digest_context(
        subscriber,
        shown,
        total - len(shown),
        delivery.pk,
        delivery.period,
        length=subscriber.digest_length,
        silent=silent,
    )
    context["source_note"] = delivery.source_note
    return build_message("emails/digest", context, subscriber.email, "x@example.com")


@time_machine.travel("2026-12-02 08:00:00 +0000", tick=False)  # the links' signing time
def test_frames_render_what_the_templates_render(make_subscriber):
    rng = random.Random(14)
    papers = _papers(rng, 30)
    subscriber = make_subscriber()
    for case in range(150):
        subscriber.digest_length = rng.choice(["titles", "short", "full"])
        items = _items(rng, papers)
        total = len(items) + rng.choice([0, 0, 1, 2, 37])
        interests = rng.sample(INTERESTS, rng.randint(0, len(INTERESTS)))
        delivery = Delivery(
            pk=1000 + case,
            subscriber=subscriber,
            period=rng.choice(["2026-12-02", "2026-W49"]),
            message_key=uuid.UUID(int=case),
            source_note=rng.choice(NOTES),
        )

        framed = compose.build_digest_message(subscriber, items, delivery, total, interests)
        plain = _plain(subscriber, items, delivery, total, interests)

        assert framed.subject == plain.subject, case
        assert framed.body == plain.body, case
        assert framed.alternatives[0] == plain.alternatives[0], case


@time_machine.travel("2026-12-02 08:00:00 +0000", tick=False)
def test_the_web_copy_shape_renders_alike_too(make_subscriber):
    """Not what the web copy uses (it renders plainly), but the frames hold for its
    context as well: no account links, a link request URL, web_copy set."""
    rng = random.Random(15)
    items = _items(rng, _papers(rng, 5))
    context = compose.digest_context(
        make_subscriber(), items, 3, 7, "2026-12-02", length="full", account_links=False
    )
    context = {
        "site_url": settings.SITE_URL,
        **context,
        "web_copy": True,
        "source_note": NOTES[-1],
    }

    _, text, html = email_frames.render(context)

    assert html == render_to_string("emails/digest.html", context)
    assert text == render_to_string("emails/digest.txt", context)


def _item_rendered_plainly(item: compose.DigestItem, length: str) -> tuple[str, str]:
    """An item as its two templates render it with its values in place (only the votes
    cut by their stand-ins, as a trending item leaves them out), no feedback links."""
    paper = item.paper
    words = tuple(item.matched_words)
    title_html, abstract_html, abstract = compose._marked(
        paper.pk, paper.updated_at, paper, words, length
    )
    reasons_html, reasons_text = compose._reasons(item, words)
    context = {
        "paper": paper,
        "length": length,
        **compose.paper_facts(paper),
        "title_html": mark_safe(title_html),
        "abstract_html": mark_safe(abstract_html),
        "authors": compose.authors_line(paper.authors, length),
        "abstract": abstract,
        "votes_start": compose._SLOTS["votes_start"],
        "votes_end": compose._SLOTS["votes_end"],
        "feedback": "",
    }
    html = render_to_string(
        "emails/_digest_item.html", {**context, "reasons": mark_safe(reasons_html)}
    )
    text = render_to_string("emails/_digest_item.txt", {**context, "reasons": reasons_text})
    return compose._cut(html, not item.trending), compose._cut(text, not item.trending)


def test_an_item_filled_from_its_pieces_is_its_templates_rendered_with_its_values():
    rng = random.Random(16)
    papers = _papers(rng, 12)
    for case in range(120):
        paper = rng.choice(papers)
        item = compose.DigestItem(paper, 1.0, _reasons(rng))
        length = rng.choice(["titles", "short", "full"])

        rendered = compose.render_item(item, length)

        assert (rendered.html, rendered.text) == _item_rendered_plainly(item, length), case
