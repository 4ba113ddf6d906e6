"""The demo `make run` loads: real papers, honestly dated, in which every example
interest the README gives finds papers, and a digest that arrives with them."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from digest import demo, tasks
from digest.models import Delivery, Paper, PaperAnalysis, PaperEvaluation, Source

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- sample-interests")[1].split("<!-- /sample-interests -->")[0]
    return re.findall(r"^\| `([^`]+)` \|", block, re.MULTILINE)


def test_the_readme_gives_examples_of_every_kind_of_interest():
    examples = readme_examples()

    assert len(examples) >= 8
    assert any(" -" in e for e in examples) and any(" AND " in e for e in examples)
    assert any(e.startswith("author:") for e in examples)
    assert any(e.startswith("cat:") for e in examples)


def test_the_sample_is_real_papers_from_arxiv_with_hugging_face_upvotes_first_seen_lately():
    now = timezone.now()

    summary = demo.load_sample(now)

    source = Source.objects.get(name=demo.SOURCE_NAME)
    assert not source.enabled  # never fetched
    papers = Paper.objects.filter(sources=source)
    assert papers.count() == summary.papers > 400
    assert papers.filter(upvotes__gt=0).count() >= 40
    assert any(
        "quant-ph" in categories for categories in papers.values_list("categories", flat=True)
    )
    # Seen over the last three days, published when arXiv really announced them.
    assert summary.first_seen_to == now - timedelta(hours=1)
    assert summary.first_seen_from == now - timedelta(hours=1, days=2)
    last_listing = datetime(2026, 7, 2, tzinfo=UTC)
    assert all(p.published_at < last_listing for p in papers)
    assert papers.filter(published_at__gte=last_listing - timedelta(days=3)).count() > 300
    hugging_face = papers.get(canonical_id="2606.28128")
    assert hugging_face.hf_url and hugging_face.categories  # arXiv's record, HF's upvotes


def test_loading_the_sample_again_moves_it_to_the_last_days_again():
    demo.load_sample(timezone.now() - timedelta(days=30))

    summary = demo.load_sample()

    assert Paper.objects.filter(first_seen__lt=timezone.now() - timedelta(days=3)).count() == 0
    assert Paper.objects.count() == summary.papers


def test_every_readme_example_finds_papers_and_a_digest_arrives_with_them(make_subscriber):
    demo.load_sample()
    examples = readme_examples()
    readers = {
        make_subscriber(email=f"demo{n}@example.com", interests=(example,)).pk: example
        for n, example in enumerate(examples)
    }

    tasks.dispatch_digests()

    sent = {d.subscriber_id: d for d in Delivery.objects.filter(status=Delivery.Status.SENT)}
    silent = [example for pk, example in readers.items() if pk not in sent]
    assert silent == []
    assert len(mail.outbox) == len(examples)
    assert all(sent[pk].paper_ids for pk in readers)


def test_the_load_sample_command_stores_the_papers_analyses_and_records_as_a_fetch_does():
    out = io.StringIO()

    call_command("load_sample", stdout=out)

    count = Paper.objects.count()
    assert PaperAnalysis.objects.count() == PaperEvaluation.objects.count() == count > 400
    assert (
        f"analysed {count} papers and evaluated the readers' interests on {count} for the digests"
    ) in out.getvalue()
