"""A 10-paper digest of real arXiv papers, as a phone shows it (390 px wide, Chromium):
short enough to read without endless scrolling, and dark mode's lines are dark."""

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from django.core import mail

from digest import tasks
from digest.models import Paper

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE = Path(__file__).resolve().parents[2] / "digest" / "sample" / "arxiv-records.jsonl.gz"
PHONE = {"width": 390, "height": 844}
# 4,383 px before issue 12 (60 words of abstract, every author, a line of links).
MOST_PX = 3_200


def _sample_papers() -> None:
    with gzip.open(SAMPLE, "rt") as lines:
        records = [json.loads(line) for line in lines]
    Paper.objects.bulk_create(
        Paper(
            canonical_id=record["id"],
            title=record["title"],
            abstract=record["abstract"],
            authors=record["authors"],
            categories=record["categories"],
            abs_url=f"https://arxiv.org/abs/{record['id']}",
            pdf_url=f"https://arxiv.org/pdf/{record['id']}",
            published_at=datetime.fromisoformat(record["published"])
            if record["published"]
            else None,
        )
        for record in records
    )


def test_a_ten_paper_digest_reads_on_a_phone(
    browser_context, make_subscriber, settings, screenshot
):
    settings.DIGEST_MAX_PAPERS = 10
    # The message itself, not the outbox page around it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _sample_papers()
    make_subscriber(
        interests=("large language models", "reinforcement learning", "diffusion models")
    )
    tasks.dispatch_digests()
    (message,) = mail.outbox
    html, _ = message.alternatives[0]
    assert html.count('class="paper"') == 10
    _, browser = browser_context

    for scheme in ("light", "dark"):
        page = browser.new_page(viewport=PHONE, color_scheme=scheme)
        page.set_content(html)
        height = page.evaluate("document.documentElement.scrollHeight")
        width = page.evaluate("document.documentElement.scrollWidth")
        separator = page.evaluate(
            "getComputedStyle(document.querySelectorAll('.paper')[1]).borderTopColor"
        )
        screenshot(page, f"digest-phone-{scheme}.png")
        page.close()

        assert width <= PHONE["width"]  # nothing wider than the phone
        assert height <= MOST_PX, f"{height} px tall in {scheme} mode"
        assert separator == ("rgb(236, 233, 226)" if scheme == "light" else "rgb(52, 58, 70)")
