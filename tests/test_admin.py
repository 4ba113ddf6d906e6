"""Staff pages: every model is listed, searchable and filterable."""

import pytest
from django.urls import reverse

from digest.models import Source
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("subscriptions/subscriber", "?q=anomaly&status__exact=active"),
        ("digest/paper", "?q=anomaly"),
        ("digest/source", "?q=arxiv&last_status__exact=never"),
        ("digest/delivery", "?q=ada&status__exact=sent"),
    ],
)
def test_each_changelist_searches_and_filters(
    admin_client, make_subscriber, ingested_papers, model, query
):
    make_subscriber()

    response = admin_client.get(f"/admin/{model}/{query}")

    assert response.status_code == 200


def test_a_subscriber_is_found_by_interest_text(admin_client, make_subscriber):
    make_subscriber(email="ada@example.com", interests=("graph neural networks",))
    make_subscriber(email="bob@example.com", interests=("astrophysics",))

    response = admin_client.get("/admin/subscriptions/subscriber/?q=graph")

    assert b"ada@example.com" in response.content
    assert b"bob@example.com" not in response.content


def test_the_subscriber_page_refuses_an_invalid_interest_with_the_engine_message(
    admin_client, make_subscriber
):
    subscriber = make_subscriber()
    url = reverse("admin:subscriptions_subscriber_change", args=[subscriber.pk])
    interest = subscriber.interests.get()
    data = {
        "email": subscriber.email,
        "status": "active",
        "frequency": "daily",
        "send_hour": "8",
        "time_zone": "UTC",
        "interests-TOTAL_FORMS": "2",
        "interests-INITIAL_FORMS": "1",
        "interests-0-id": str(interest.pk),
        "interests-0-subscriber": str(subscriber.pk),
        "interests-0-text": "anomaly detection",
        "interests-1-subscriber": str(subscriber.pk),
        "interests-1-text": "?!?",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert b"has no letters or digits to look for" in response.content
    assert Subscriber.objects.get().interests.count() == 1


# --- Sources (issue 11, findings 7 and 8) ---


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://10.0.0.5/feed.xml", "10.0.0.5 is a private address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is ::ffff:7f00:1, a loopback address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://localhost:8000/admin/", "localhost is a local name"),
    ],
)
def test_the_source_form_refuses_a_url_that_is_not_public(admin_client, url, reason):
    response = admin_client.post(
        reverse("admin:digest_source_add"), {"name": "", "url": url, "kind": "", "enabled": "on"}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert errors == [
        f"Paperboy will not fetch this URL: {reason}; feeds are fetched from public addresses only."
    ]
    assert not Source.objects.filter(url=url).exists()


def test_an_arxiv_kind_is_refused_for_a_feed_that_is_not_on_arxiv_or_an_allowed_host(
    admin_client, settings
):
    # An arXiv kind lets the feed describe arXiv's papers (issue 11, finding 3).
    def add(url: str):
        data = {"name": "", "url": url, "kind": "arxiv_rss", "enabled": "on"}
        return admin_client.post(reverse("admin:digest_source_add"), data)

    refused = add("https://arxiv.example/rss/cs.LG")
    settings.FETCH_ALLOWED_HOSTS = ["mirror.intranet"]  # a mirror the deployment trusts
    accepted = add("http://mirror.intranet/rss/cs.LG")

    assert refused.status_code == 200
    assert "The arXiv kinds are for arxiv.org addresses" in " ".join(
        refused.context["adminform"].form.errors["kind"]
    )
    assert accepted.status_code == 302
    assert not Source.objects.filter(url="https://arxiv.example/rss/cs.LG").exists()
    assert Source.objects.get(url="http://mirror.intranet/rss/cs.LG").kind == "arxiv_rss"


def test_staff_see_how_many_items_of_a_source_were_dropped_and_why(admin_client):
    Source.objects.all().delete()
    source = Source.objects.create(
        name="a journal",
        url="https://journal.example/rss",
        kind="feed",
        last_status="ok",
        last_summary="2 new, 0 updated, 0 unchanged, 1 dropped",
        last_dropped=1,
        last_problems="doi:10.1234/too.long: dropped, abs_url is longer than 500 characters",
    )

    changelist = admin_client.get(reverse("admin:digest_source_changelist"))
    change = admin_client.get(reverse("admin:digest_source_change", args=[source.pk]))

    assert '<td class="field-last_dropped">1</td>' in changelist.content.decode()
    assert "abs_url is longer than 500 characters" in change.content.decode()
