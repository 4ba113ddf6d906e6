"""Each interest's own feedback in the preview, against the bundled sample (443 real
recent papers): how many papers a line finds and its best one, a line that finds
nothing (with the spelling it may mean), one that finds most papers. The live
preview POSTs, with the signup page's CSRF token or behind the manage page's link,
on the same per-visitor budget as before."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from digest import demo, recent
from subscriptions import tokens

pytestmark = pytest.mark.django_db

# The warning for a line that finds nearly every paper of the sample.
BROAD = re.compile(r"Matches 9\d% of papers; add words to narrow it")
SIGNED_UP = {"frequency": "daily", "send_hour": "8", "time_zone": "UTC"}


@pytest.fixture
def sample_papers():
    return demo.load_sample()


def _manage_preview_path(subscriber_id: int) -> str:
    return reverse(
        "subscriptions:manage_preview", args=[tokens.make_token(tokens.MANAGE, subscriber_id)]
    )


def test_each_interest_says_what_it_finds_and_what_is_wrong_with_it(sample_papers):
    lines = recent.interest_feedback(
        ["quantum error correction", "reinforcment learning", "the", "xylophonics"]
    )

    quantum, typo, the, unknown = lines
    assert (quantum.matches, quantum.warning, quantum.suggestion) == (6, "", "")
    assert quantum.example.title.startswith("CryoZip")
    assert quantum.example.url == "https://arxiv.org/abs/2606.30805"
    assert (typo.matches, typo.example) == (0, None)
    assert typo.message == ("No paper of the last 7 days; did you mean “reinforcement learning”?")
    # "the" is about nothing: a paper's every "the" may be in one passing sentence.
    assert BROAD.fullmatch(the.warning)
    assert (unknown.warning, unknown.suggestion) == ("No paper of the last 7 days", "")


def test_the_feedback_counts_only_the_chosen_categories(sample_papers):
    everywhere, in_quantum = (
        recent.interest_feedback(["quantum error correction"], categories)[0]
        for categories in ((), ("cs.CV",))
    )

    assert (everywhere.matches, in_quantum.matches) == (6, 0)


def test_the_signup_page_posts_its_preview_with_its_csrf_token(sample_papers):
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    url = reverse("subscriptions:preview_matches")
    text = {"interests": "reinforcment learning\nquantum error correction"}

    refused = visitor.post(url, text)
    answered = visitor.post(url, text, HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    data = answered.json()
    assert answered.status_code == 200 and data["total"] == 6
    assert data["interests"][0] == {
        "interest": "reinforcment learning",
        "matches": 0,
        "example": None,
        "warning": "No paper of the last 7 days",
        "suggestion": "reinforcement learning",
        "note": "",  # a like line's (what it follows instead of words)
    }
    assert data["interests"][1]["example"]["title"].startswith("CryoZip")


def test_the_manage_page_previews_behind_its_signed_link(sample_papers, make_subscriber):
    token = tokens.make_token(tokens.MANAGE, make_subscriber().pk)
    visitor = Client(enforce_csrf_checks=True)  # the page has no CSRF token to send
    page = visitor.get(reverse("subscriptions:manage", args=[token]))
    path = reverse("subscriptions:manage_preview", args=[token])

    answered = visitor.post(path, {"interests": "the"})
    forged = visitor.post("/manage/not-a-token/preview.json", {"interests": "the"})

    assert f'data-preview-url="{path}"' in page.content.decode()
    assert answered.status_code == 200
    assert BROAD.fullmatch(answered.json()["interests"][0]["warning"])
    assert "no-store" in answered["Cache-Control"]
    assert answered["Referrer-Policy"] == "no-referrer"
    assert forged.status_code == 400
    assert visitor.get(path).status_code == 405


def test_thirty_interests_near_the_length_limit_are_previewed(sample_papers, client):
    lines = [
        "quantum error correction with surface codes and neural decoders for fault "
        f"tolerant quantum hardware -survey -review -poll case {n:02}"
        for n in range(30)
    ]
    text = "\n".join(lines)
    assert len(text) == 3_899  # its URL, encoded, is far beyond gunicorn's 4,094 (414)

    answered = client.post(reverse("subscriptions:preview_matches"), {"interests": text})
    too_long = client.post(
        reverse("subscriptions:preview_matches"), {"interests": text + "x" * 260}
    )

    assert answered.status_code == 200
    assert len(answered.json()["interests"]) == 30
    assert too_long.status_code == 400
    assert too_long.json()["errors"] == [
        "At most 4,000 characters of interests, please (these have 4,159)."
    ]


def test_an_unknown_category_is_refused_with_close_ones(sample_papers, client):
    answered = client.post(reverse("subscriptions:preview_matches"), {"interests": "cat:cs.ML"})

    assert answered.status_code == 400
    [error] = answered.json()["errors"]
    assert error.startswith("Line 1: “cs.ML” is not an arXiv category: did you mean cat:stat.ML")


def test_the_posted_previews_draw_on_the_visitors_cpu_budget(
    settings, sample_papers, make_subscriber, monkeypatch
):
    settings.PREVIEW_CPU_SECONDS_PER_HOUR = 1
    settings.PREVIEW_RATE_LIMIT_PER_HOUR = 1000
    clock = iter(step * 0.4 for step in range(1000))  # each preview costs 0.4 s
    monkeypatch.setattr("subscriptions.ratelimit.cpu_clock", lambda: next(clock))
    visitor = Client(REMOTE_ADDR="198.51.100.20")
    manage = _manage_preview_path(make_subscriber().pk)
    signup = reverse("subscriptions:preview_matches")
    text = {"interests": "the"}

    statuses = [visitor.post(path, text).status_code for path in (signup, manage, signup, manage)]

    assert statuses == [200, 200, 200, 429]
    assert cache.get("cpu:preview-ip:198.51.100.20") == 1200


def test_the_preview_button_without_javascript_gives_the_same_feedback(sample_papers, client):
    response = client.post(
        "/", {**SIGNED_UP, "interests": "reinforcment learning\nthe", "preview": "1"}
    )

    page = response.content.decode()
    assert "<code>reinforcment learning</code>" in page
    assert (
        "No paper of the last 7 days; did you mean "
        '<span class="nowrap"><em>reinforcement learning</em>?</span>'
    ) in page
    assert BROAD.search(page)
