"""Seeing what the engine decides: the match command, the admin preview, highlighting."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from digest.templatetags.digest_tags import highlight
from tests.conftest import FIXTURES


def test_match_prints_the_matching_papers_of_a_feed_best_first(capsys):
    feed = str(FIXTURES / "arxiv-rss-2026-cs.LG.xml")
    call_command("match", "--feed", feed, "--interest", "anomaly detection", "--interest", "LLM")

    lines = capsys.readouterr().out.splitlines()
    # The third mentions LLMs once, in passing ("an LLM-aided design approach"): not about them.
    assert lines[0] == "2 of 3 papers match, best first:"
    assert lines[1].startswith("  1. 2604.21953  ")
    assert lines[2].strip() == "anomaly detection (title): Anomaly Detection"


@pytest.mark.django_db
def test_match_json_detects_the_kind_and_touches_no_database(capsys, django_assert_num_queries):
    with django_assert_num_queries(0):
        call_command(
            "match",
            "--feed",
            str(FIXTURES / "hf-daily-papers-api.json"),
            "--interest",
            "LLM",
            "--json",
        )

    results = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in results][:2] == ["2606.12730", "2606.00467"]
    assert set(results[0]) >= {"id", "title", "score", "reasons"}
    assert results[0]["reasons"][0] == {
        "interest": "LLM",
        "matched": ["LLMs", "LLM"],
        "fields": ["title", "abstract"],
    }


def test_match_refuses_a_bad_interest_with_the_engine_message():
    with pytest.raises(CommandError, match="This quote is never closed"):
        call_command(
            "match", "--feed", str(FIXTURES / "hf-daily-papers-api.json"), "--interest", '"x'
        )


@pytest.mark.django_db
def test_staff_preview_what_a_subscriber_would_get_and_why(
    admin_client, make_subscriber, ingested_papers
):
    subscriber = make_subscriber(interests=("anomaly detection", "cat:cs.AR"))

    page = admin_client.get(reverse("admin:subscriptions_subscriber_preview", args=[subscriber.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>3</strong> papers matched" in html
    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in html
    assert "<code>cat:cs.AR</code> in categories: cs.ar" in html
    assert subscriber.deliveries.count() == 0  # a preview sends and records nothing


@pytest.mark.django_db
def test_the_preview_action_opens_the_preview_of_one_subscriber(admin_client, make_subscriber):
    subscriber = make_subscriber()
    changelist = reverse("admin:subscriptions_subscriber_changelist")

    response = admin_client.post(
        changelist, {"action": "preview_digest", "_selected_action": [subscriber.pk]}
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:subscriptions_subscriber_preview", args=[subscriber.pk])


def test_highlight_marks_whole_words_and_escapes_the_rest():
    marked = highlight("LLMs & <b>URL</b> tricks for LLM-based RL", ["LLMs", "RL", "LLM"])

    assert marked == (
        "<mark>LLMs</mark> &amp; &lt;b&gt;URL&lt;/b&gt; tricks for <mark>LLM</mark>-based "
        "<mark>RL</mark>"
    )


def test_highlight_prefers_the_longest_word_at_each_place_and_never_nests_marks():
    marked = highlight(
        "Language models: large language models, language & models",
        ["language", "language models", "large language models", "models"],
    )

    assert marked == (
        "<mark>Language models</mark>: <mark>large language models</mark>, "
        "<mark>language</mark> &amp; <mark>models</mark>"
    )
    assert highlight("a & b", ["&"]) == "a <mark>&amp;</mark> b"
    assert highlight("nothing here", []) == "nothing here"


def test_highlight_searches_the_text_not_its_escaped_form():
    # "lt", "amp" and "quot" are words of the escaped text's entities, not of the text.
    marked = highlight('a < b & "c" with lt, amp and quot', ["lt", "amp", "quot"])

    assert marked == (
        "a &lt; b &amp; &quot;c&quot; with <mark>lt</mark>, <mark>amp</mark> and <mark>quot</mark>"
    )
    assert highlight("x <mark> y", ["mark"]) == "x &lt;<mark>mark</mark>&gt; y"
