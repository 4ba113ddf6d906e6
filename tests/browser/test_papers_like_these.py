"""Papers like these (issue 15, part 3) in a real browser: a like: line typed on the
signup page says, while it is typed, which paper it follows (never "no paper of the
last 7 days"); a Zotero export chosen on the manage page adds its papers, listed with
their titles. Against the bundled sample's papers."""

import pytest
from playwright.sync_api import Page, expect

from digest import demo
from digest.models import Paper
from subscriptions import tokens
from subscriptions.models import Interest, Subscriber
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sample_papers():
    return demo.load_sample()


def test_a_like_line_says_which_paper_it_follows_while_it_is_typed(
    page: Page, live_server, sample_papers
):
    seed = Paper.objects.filter(canonical_id__contains=".").order_by("canonical_id").first()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email address").fill("reader@example.com")
    interests = page.get_by_label("Your interests")

    interests.fill(f"quantum error correction\nlike:https://arxiv.org/abs/{seed.canonical_id}v2")

    lines = page.locator("[data-live-preview] .interest-feedback li")
    expect(lines).to_have_count(2)
    expect(lines.nth(1)).to_contain_text(
        f"like:{seed.canonical_id}: follows papers like {seed.title[:40]}"
    )
    expect(lines.nth(1)).not_to_contain_text("No paper")
    expect(lines.nth(1).get_by_role("link")).to_have_attribute("href", seed.abs_url)

    interests.fill("like:2403.123")
    expect(page.locator("[data-live-preview]")).to_contain_text("not a whole arXiv id")


def test_a_zotero_export_chosen_on_the_manage_page_adds_its_papers(page: Page, live_server, db):
    for canonical, title in [
        ("1706.03762", "Attention Is All You Need"),
        ("2006.11239", "Denoising Diffusion Probabilistic Models"),
        ("2010.11929", "An Image is Worth 16x16 Words"),
    ]:
        Paper.objects.create(
            canonical_id=canonical, title=title, abs_url=f"https://arxiv.org/abs/{canonical}"
        )
    subscriber = Subscriber.objects.create(email="ada@example.com", status="active")
    Interest.objects.create(subscriber=subscriber, text="LLM")
    token = tokens.make_token(tokens.MANAGE, subscriber.pk)
    page.goto(f"{live_server.url}/manage/{token}/")

    page.get_by_label("BibTeX or Zotero CSV file").set_input_files(
        str(FIXTURES / "zotero-export-2026.csv")
    )
    page.get_by_role("button", name="Add its papers").click()

    expect(page.locator("[data-seeds-imported]")).to_contain_text(
        "Added 3 papers of your Zotero CSV file (5 entries)"
    )
    expect(page.locator("[data-seeds-imported]")).to_contain_text(
        "2 entries name no arXiv paper: Deep learning"
    )
    seeds = page.locator("[data-seeds] li")
    expect(seeds).to_have_count(3)
    expect(seeds.nth(1)).to_contain_text(
        "like:2006.11239: Denoising Diffusion Probabilistic Models"
    )
    expect(page.get_by_label("Your interests")).to_have_value(
        "LLM\nlike:1706.03762\nlike:2006.11239\nlike:2010.11929"
    )
