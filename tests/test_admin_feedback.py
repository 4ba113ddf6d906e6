"""Staff see the readers' "more / less like this" (issue 15): counts per subscriber in
the list, their latest clicks on their page, every click in a list of its own that
staff can read and delete but never write."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from digest import tasks
from digest.models import Feedback, Paper
from subscriptions.models import Interest

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriptions_subscriber_changelist")
FEEDBACK = reverse("admin:digest_feedback_changelist")


@pytest.fixture
def clicks(make_subscriber):
    ada = make_subscriber(email="ada@example.com")
    bob = make_subscriber(email="bob@example.com")
    Interest.objects.create(subscriber=ada, text="LLM")  # a second interest: no join blow-up
    now = timezone.now()
    papers = [
        Paper.objects.create(canonical_id=f"2607.0000{n}", title=f"Paper number {n}")
        for n in range(4)
    ]
    for n, (paper, value) in enumerate(zip(papers, [1, 1, 1, -1], strict=True)):
        Feedback.objects.create(
            subscriber=ada, paper=paper, value=value, created=now - timedelta(hours=n)
        )
    Feedback.objects.create(subscriber=bob, paper=papers[0], value=-1)
    return ada, bob


def test_the_subscriber_list_counts_each_readers_more_and_less(admin_client, clicks):
    page = admin_client.get(CHANGELIST).content.decode()

    rows = {
        email: row
        for row in page.split("<tr")
        for email in ("ada@example.com", "bob@example.com")
        if email in row
    }
    assert re.search(r'field-feedback_counts">3 / 1<', rows["ada@example.com"])
    assert re.search(r'field-feedback_counts">0 / 1<', rows["bob@example.com"])
    assert re.search(r'field-interest_count">2<', rows["ada@example.com"])


def test_a_subscribers_page_shows_the_latest_clicks_and_links_to_all(admin_client, clicks):
    ada, _ = clicks
    page = admin_client.get(
        reverse("admin:subscriptions_subscriber_change", args=[ada.pk])
    ).content.decode()

    report = page.split('class="feedback-report"')[1]
    assert report.index("Paper number 0") < report.index("Paper number 3")  # newest first
    assert "less like this" in report
    every = re.search(r'href="([^"]*digest/feedback/[^"]*)"', report).group(1)
    listed = admin_client.get(every.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert listed.content.decode().count("Paper number") == 4  # ada's, not bob's


def test_staff_read_and_delete_clicks_but_never_write_them(admin_client, clicks):
    feedback = Feedback.objects.filter(value=-1).first()

    assert admin_client.get(FEEDBACK).status_code == 200
    assert admin_client.get(reverse("admin:digest_feedback_add")).status_code == 403
    change = reverse("admin:digest_feedback_change", args=[feedback.pk])
    assert 'name="value"' not in admin_client.get(change).content.decode()
    admin_client.post(reverse("admin:digest_feedback_delete", args=[feedback.pk]), {"post": "yes"})
    assert not Feedback.objects.filter(pk=feedback.pk).exists()


def test_the_staff_preview_says_why_a_trending_paper_is_there(admin_client, make_subscriber):
    Paper.objects.create(canonical_id="2607.00009", title="Upvoted a lot", upvotes=77)
    reader = make_subscriber(interests=("trending:3",))

    page = admin_client.get(
        reverse("admin:subscriptions_subscriber_preview", args=[reader.pk])
    ).content.decode()

    assert "<code>trending:3</code>: trending on Hugging Face, ▲ 77" in page


def test_staff_see_whether_a_reader_has_a_model_and_what_it_learned_from(admin_client, clicks):
    ada, bob = clicks
    tasks.train_reader(ada.pk)

    page = admin_client.get(CHANGELIST).content.decode()
    rows = {
        email: row for row in page.split("<tr") for email in (ada.email, bob.email) if email in row
    }
    assert 'field-has_model"><img src="/static/admin/img/icon-yes.svg"' in rows[ada.email]
    assert 'field-has_model"><img src="/static/admin/img/icon-no.svg"' in rows[bob.email]

    ada_page = admin_client.get(reverse("admin:subscriptions_subscriber_change", args=[ada.pk]))
    assert "centroid (few examples), from 3 liked, 1 disliked and 0 followed papers" in (
        ada_page.content.decode()
    )
    bob_page = admin_client.get(reverse("admin:subscriptions_subscriber_change", args=[bob.pk]))
    assert "No model: their digests are the keyword matches alone." in bob_page.content.decode()
