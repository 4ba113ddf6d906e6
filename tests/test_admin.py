"""Staff pages: every model is listed, searchable and filterable."""

import pytest
from django.urls import reverse

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
