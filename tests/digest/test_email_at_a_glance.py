"""The email at a glance (issue 12): each paper with its date, primary category and
arXiv id; the abstract cut to the sentences around what matched (whole on the web
copy), or as long as the subscriber chose; the interests that found nothing named in
the footer; separators that follow dark mode."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from digest import compose, excerpts, tasks
from digest.models import Paper

pytestmark = pytest.mark.django_db

OPENING = "Large models of weather need data that few groups can afford to gather."
MATCHED = "We show that sparse graph neural networks forecast rainfall as well as dense ones."
CLOSING = (
    "Our evaluation covers twelve regions over forty years of daily observations, with "
    "ablations of every component, a study of the failure cases, and a public release of "
    "the code, the trained weights and the evaluation harness for others to build upon."
)
ABSTRACT = " ".join([OPENING, MATCHED, CLOSING])


def _paper(canonical_id: str = "2607.01234", **fields) -> Paper:
    defaults = {
        "title": "Rain from sparse graphs",
        "abstract": ABSTRACT,
        "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara"],
        "categories": ["physics.ao-ph", "cs.LG"],
        "abs_url": f"https://arxiv.org/abs/{canonical_id}",
        "pdf_url": f"https://arxiv.org/pdf/{canonical_id}",
        "published_at": datetime(2026, 6, 29, 18, 0, tzinfo=UTC),
    }
    return Paper.objects.create(canonical_id=canonical_id, **{**defaults, **fields})


def _digest(make_subscriber, interests=("graph neural networks",), **fields):
    make_subscriber(interests=interests, **fields)
    tasks.dispatch_digests()
    (message,) = mail.outbox
    return message.alternatives[0][0], message.body


def _web_copy(client, text: str) -> str:
    path = re.search(r"https://paperboy\.example(/digest/[^/\s]+/)", text).group(1)
    return client.get(path).content.decode()


def test_each_paper_shows_its_date_primary_category_and_arxiv_id(make_subscriber):
    _paper()

    html, text = _digest(make_subscriber)

    # The primary category is the one arXiv lists first.
    assert "physics.ao-ph · 29 Jun 2026 · " in html
    assert re.search(
        r'<a [^>]*href="https://arxiv.org/abs/2607.01234"[^>]*>arXiv:2607.01234</a>', html
    )
    assert "   physics.ao-ph · 29 Jun 2026 · arXiv:2607.01234\n" in text
    assert "cs.LG · " not in html


def test_a_paper_not_from_arxiv_shows_no_arxiv_id(make_subscriber):
    _paper(
        "doi:10.1101/2026.06.29.000001",
        abs_url="https://www.biorxiv.org/content/10.1101/2026.06.29.000001",
        pdf_url="",
        categories=[],
    )

    html, text = _digest(make_subscriber)

    assert "arXiv:" not in html and "arXiv:" not in text
    assert "doi:10.1101" not in html
    assert ">Abstract</a>" in html
    assert "   29 Jun 2026\n" in text


def test_a_paper_without_a_date_shows_when_paperboy_first_saw_it(make_subscriber):
    _paper(published_at=None, first_seen=timezone.now() - timedelta(hours=1))

    html, _ = _digest(make_subscriber)

    assert f"physics.ao-ph · {timezone.now() - timedelta(hours=1):%-d %b %Y} · " in html


def test_a_short_digest_shows_the_sentences_around_the_match_and_the_web_copy_all(
    client, make_subscriber
):
    _paper()

    html, text = _digest(make_subscriber)

    shown = "We show that sparse <mark>graph neural networks</mark> forecast rainfall"
    assert f"…\u00a0{shown}" in html
    assert "Large models of weather" not in html and "evaluation harness" not in html
    assert f"…\u00a0{MATCHED}" in text and OPENING not in text
    assert "View in the browser</a>, with whole abstracts." in html
    page = _web_copy(client, text)
    assert OPENING in page and shown in page and "for others to build upon." in page
    assert "with whole abstracts" not in page


@pytest.mark.parametrize(
    ("length", "shows_opening", "shows_match", "authors"),
    [
        ("titles", False, False, "Ada Lovelace, Alan Turing, Grace Hopper and 2 more"),
        ("short", False, True, "Ada Lovelace, Alan Turing, Grace Hopper and 2 more"),
        ("full", True, True, "Ada Lovelace, Alan Turing, Grace Hopper, Edsger Dijkstra, Barbara"),
    ],
)
def test_each_digest_length_shows_as_much_as_chosen(
    client, make_subscriber, length, shows_opening, shows_match, authors
):
    _paper()

    html, text = _digest(make_subscriber, digest_length=length)

    assert '<div class="abstract"' in html if shows_match else '<div class="abstract"' not in html
    assert (OPENING in html, OPENING in text) == (shows_opening, shows_opening)
    assert ("forecast rainfall" in html, "forecast rainfall" in text) == (shows_match,) * 2
    assert authors in html and authors in text
    # The title, the facts and the reasons are in every length; the web copy is whole.
    assert "Rain from sparse graphs</a>" in html and "Rain from sparse graphs\n" in text
    assert "physics.ao-ph · 29 Jun 2026 · " in html
    assert "matched: graph neural networks" in html
    assert OPENING in _web_copy(client, text)


def test_the_footer_names_the_interests_that_found_nothing(client, make_subscriber):
    _paper()

    html, text = _digest(
        make_subscriber, interests=("graph neural networks", "protein folding", "cat:hep-th")
    )

    footer = html[html.index('class="footer"') :]
    assert (
        "Nothing new this time for: <strong>protein folding</strong> · "
        "<strong>cat:hep-th</strong>." in footer
    )
    assert "Nothing new this time for: protein folding · cat:hep-th.\n" in text
    assert "graph neural networks</strong>" not in footer
    # A web copy is forwarded: it names no interest the digest does not show.
    assert "protein folding" not in _web_copy(client, text)


def test_only_interests_sure_to_have_found_nothing_are_named(make_subscriber, settings):
    settings.DIGEST_MAX_PAPERS = settings.WEB_COPY_MAX_PAPERS = 1
    _paper("2607.00001", title="Graph neural networks", abstract="For everything.")
    _paper("2607.00002", title="Weather", abstract="On rainfall.")
    make_subscriber(email="silent@example.com", interests=("graph neural networks", "zebrafish"))
    make_subscriber(email="capped@example.com", interests=("graph neural networks", "rainfall"))
    make_subscriber(email="found@example.com", interests=("rainfall",))

    tasks.dispatch_digests()

    sent = {message.to[0].split("@")[0]: message for message in mail.outbox}
    assert "Nothing new this time for: zebrafish." in sent["silent"].body
    # The capped digest shows the first paper only; "rainfall" matched the one beyond.
    assert "and 1 more matching paper" in sent["capped"].body
    for name in ("capped", "found"):
        assert "Nothing new" not in sent[name].body
        assert "Nothing new" not in sent[name].alternatives[0][0]


def test_dark_mode_turns_the_lines_between_papers_dark(make_subscriber):
    _paper()

    html, _ = _digest(make_subscriber)

    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    style = re.sub(r"/\*.*?\*/", "", style, flags=re.DOTALL)
    dark = style[style.index("@media (prefers-color-scheme: dark)") :]
    dark = dark[: dark.index("\n}\n")]
    rule = re.search(r"([^{}]*)\{\s*border-top-color:\s*(#[0-9a-f]{6}) !important;\s*\}", dark)
    assert rule, dark
    assert {".paper", ".footer"} <= {name.strip() for name in rule.group(1).split(",")}
    assert rule.group(2) == "#343a46"  # the sheet's own dark border
    # The light separator is inline, so the dark one must override it (!important).
    assert 'class="paper" style="' in html and "border-top: 1px solid #ece9e2" in html


def test_a_paper_is_rendered_once_for_every_digest_of_one_length(make_subscriber):
    _paper()
    compose._paper_item.cache_clear()
    compose._rendered.clear()
    for n in range(3):
        make_subscriber(email=f"reader{n}@example.com", interests=("graph neural networks",))
    make_subscriber(email="titles@example.com", interests=("rainfall",), digest_length="titles")

    with mock.patch.object(compose, "render_to_string", wraps=compose.render_to_string) as render:
        tasks.dispatch_digests()

    items = [call.args[0] for call in render.call_args_list if "_digest_item" in call.args[0]]
    # Two lengths, each rendered once (HTML and text), for four digests.
    assert items.count("emails/_digest_item.html") == 2
    assert items.count("emails/_digest_item.txt") == 2
    assert len(mail.outbox) == 4


def test_the_excerpt_cuts_sentences_where_they_end_not_at_abbreviations():
    text = (
        "Methods such as GNNs (e.g. GraphSAGE) follow Smith et al. and reach 3.5 points. "
        "Fig. 2 shows J. Smith's result! Does it hold? Yes."
    )

    assert excerpts.sentences(text) == (
        "Methods such as GNNs (e.g. GraphSAGE) follow Smith et al. and reach 3.5 points.",
        "Fig. 2 shows J. Smith's result!",
        "Does it hold?",
        "Yes.",
    )


def test_the_excerpt_of_a_long_sentence_is_cut_around_the_match():
    words = [f"w{n}" for n in range(120)]
    words[80] = "rainfall"
    sentence = " ".join(words) + "."

    shown = excerpts.excerpt(sentence, ["rainfall"], limit=30)

    assert shown.startswith("…\u00a0w70 ") and shown.endswith(" w99\u00a0…")
    assert shown.count("w") + shown.count("rainfall") == 30


def test_without_a_match_in_the_abstract_the_excerpt_is_its_opening():
    shown = excerpts.excerpt(ABSTRACT, ["title words"])

    assert shown.startswith(OPENING) and shown.endswith("\u00a0…")
    assert excerpts.excerpt("Short enough.", ["x"]) == "Short enough."
