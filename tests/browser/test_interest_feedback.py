"""Each interest's own feedback while it is typed, in a real browser, against the
bundled sample (443 real recent papers): a silent line with the spelling it may
mean (one click puts it in), a too-broad line, an error cleared as soon as the
text is valid, a 30-line list near the 4,000-character limit, the manage page's
preview behind its link, and never an answer for another text than the one on
screen."""

import contextlib
import re

import pytest
from playwright.sync_api import Page, Route, expect

from digest import demo
from subscriptions import tokens

pytestmark = pytest.mark.django_db(transaction=True)

PREVIEW = "**/preview.json"


@pytest.fixture
def sample_papers():
    return demo.load_sample()


def _wait_until(page: Page, condition) -> None:
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(100)  # lets the browser's events, and our route, run
    raise AssertionError("the browser never got there")


def _feedback(page: Page):
    return page.locator("[data-live-preview] .interest-feedback li")


def test_each_line_says_what_it_finds_a_typo_gets_a_suggestion_a_broad_line_a_warning(
    page: Page, live_server, sample_papers, screenshot
):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("reader@example.com")
    interests = page.get_by_label("Your interests")
    interests.fill("quantum error correction\nreinforcment learning\nthe")

    lines = _feedback(page)
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_contain_text("quantum error correction: 6 papers, e.g. CryoZip")
    expect(lines.nth(1)).to_contain_text(
        "No paper of the last 7 days; did you mean reinforcement learning?"
    )
    expect(lines.nth(2)).to_contain_text(re.compile(r"Matches 9\d% of papers; add words"))
    expect(page.locator("[data-live-preview]")).to_contain_text("would have matched")
    screenshot(page, "signup-feedback.png")

    # One click puts the suggestion in place of the line, and the feedback follows.
    lines.nth(1).get_by_role("button", name="reinforcement learning").click()
    expect(interests).to_have_value("quantum error correction\nreinforcement learning\nthe")
    expect(lines.nth(1)).to_contain_text("reinforcement learning: ")
    expect(lines.nth(1)).not_to_contain_text("No paper")


def test_an_error_is_cleared_as_soon_as_the_text_is_valid(page: Page, live_server, sample_papers):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("reader@example.com")
    interests = page.get_by_label("Your interests")
    preview = page.locator("[data-live-preview]")

    # The server's answer to a submitted list stays only until the text is fixed.
    interests.fill("quantum error correction\ncat:nonsense")
    page.get_by_role("button", name="Subscribe").click()
    server_error = page.locator("[data-interests-errors]")
    expect(server_error).to_contain_text("Line 2: “nonsense” is not an arXiv category")
    interests.fill("quantum error correction\ncat:quant-ph")
    expect(_feedback(page)).to_have_count(2)
    expect(server_error).to_have_count(0)
    expect(interests).to_have_attribute("aria-invalid", "false")

    # The live answer's own errors go too.
    interests.fill('quantum error correction\n"graph neural')
    expect(preview.get_by_role("alert")).to_contain_text("Line 2: This quote is never closed")
    expect(interests).to_have_attribute("aria-invalid", "true")
    interests.fill("quantum error correction\ngraph neural networks")
    expect(_feedback(page)).to_have_count(2)
    expect(preview.get_by_role("alert")).to_have_count(0)


def test_thirty_interests_near_the_length_limit_are_previewed(
    page: Page, live_server, sample_papers
):
    lines = [
        "quantum error correction with surface codes and neural decoders for fault "
        f"tolerant quantum hardware -survey -review -poll case {n:02}"
        for n in range(29)
    ]
    text = "\n".join([*lines, "quantum error correction"])
    assert len(text) > 3_600  # as a GET's URL, far beyond gunicorn's 4,094: a 414
    page.goto(f"{live_server.url}/")

    page.get_by_label("Your interests").fill(text)

    expect(_feedback(page)).to_have_count(30)
    expect(_feedback(page).nth(29)).to_contain_text("quantum error correction: 5 papers")
    expect(page.locator("[data-live-preview]")).to_contain_text(
        "5 papers of the last 7 days would have matched"
    )


def test_the_manage_page_previews_behind_its_link(
    page: Page, live_server, sample_papers, make_subscriber
):
    subscriber = make_subscriber(interests=("quantum error correction",))
    page.goto(f"{live_server.url}/manage/{tokens.make_token(tokens.MANAGE, subscriber.pk)}/")

    page.get_by_label("Your interests").fill("quantum error correction\nanomally detection")

    lines = _feedback(page)
    expect(lines.nth(0)).to_contain_text("quantum error correction: 5 papers")
    expect(lines.nth(1)).to_contain_text("did you mean anomaly detection?")


def test_an_answer_for_an_older_text_is_never_shown(page: Page, live_server, sample_papers):
    page.goto(f"{live_server.url}/")
    interests = page.get_by_label("Your interests")
    preview = page.locator("[data-live-preview]")
    interests.fill("quantum error correction")
    expect(preview).to_contain_text("5 papers of the last 7 days")

    # A preview that fails (here the 414 a too long URL got) leaves no old answer.
    page.route(PREVIEW, lambda route: route.fulfill(status=414, body="<h1>Too long</h1>"))
    interests.fill("graph neural networks")
    expect(preview).to_contain_text("No preview right now")
    expect(preview).not_to_contain_text("5 papers")
    page.unroute(PREVIEW)

    # Answers held back and released newest first: the older one is never drawn.
    held: list[Route] = []
    page.route(PREVIEW, lambda route: held.append(route))
    interests.fill("quantum error correction")
    _wait_until(page, lambda: len(held) == 1)  # its request is sent, and held
    interests.fill("quantum error correction\ncat:quant-ph")
    _wait_until(page, lambda: len(held) == 2)
    held[1].continue_()
    expect(_feedback(page)).to_have_count(2)
    with contextlib.suppress(Exception):  # the browser may have aborted it already
        held[0].continue_()
    page.wait_for_timeout(500)
    expect(_feedback(page)).to_have_count(2)
