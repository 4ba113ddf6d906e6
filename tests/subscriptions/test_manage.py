"""Managing a subscription without a password: the signed manage link, "send me my
link", the live preview, and the Content Security Policy on every page."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from digest import tasks
from subscriptions import services, tokens
from subscriptions.models import ConsentRecord, Interest, Subscriber

pytestmark = pytest.mark.django_db


def manage_url(subscriber: Subscriber) -> str:
    return reverse("subscriptions:manage", args=[tokens.make_token(tokens.MANAGE, subscriber.pk)])


def form_data(**changes) -> dict:
    return {
        "interests": "anomaly detection\ngraph neural networks",
        "frequency": "weekly",
        "send_hour": "18",
        "time_zone": "Asia/Tokyo",
        "paused_until": "",
        "action": "save",
        **changes,
    }


def test_the_manage_page_shows_the_current_choices(client, make_subscriber):
    subscriber = make_subscriber(interests=("anomaly detection", "LLM"))

    page = client.get(manage_url(subscriber)).content.decode()

    assert "anomaly detection\nLLM</textarea>" in page
    assert subscriber.email in page


@pytest.mark.parametrize("token", ["nonsense", tokens.make_token(tokens.UNSUBSCRIBE, 1)])
def test_a_bad_or_foreign_token_is_refused(client, make_subscriber, token):
    make_subscriber()
    response = client.get(reverse("subscriptions:manage", args=[token]))

    assert response.status_code == 400
    assert b"not valid" in response.content


def test_saving_changes_interests_and_schedule(client, make_subscriber):
    subscriber = make_subscriber(interests=("anomaly detection", "LLM"))
    kept = subscriber.interests.get(text="anomaly detection")

    response = client.post(manage_url(subscriber), form_data())

    assert "Saved." in response.content.decode()
    subscriber.refresh_from_db()
    assert [i.text for i in subscriber.interests.all()] == [
        "anomaly detection",
        "graph neural networks",
    ]
    assert subscriber.interests.get(text="anomaly detection").pk == kept.pk
    assert (subscriber.frequency, subscriber.send_hour, subscriber.time_zone) == (
        "weekly",
        18,
        "Asia/Tokyo",
    )
    local = subscriber.next_digest_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.weekday()) == (18, 0)


def test_an_invalid_interest_is_refused_with_the_engine_message_and_nothing_changes(
    client, make_subscriber
):
    subscriber = make_subscriber(interests=("anomaly detection",))

    response = client.post(manage_url(subscriber), form_data(interests='LLM\n"open quote'))

    page = response.content.decode()
    assert "Line 2: This quote is never closed (at character 1 of “&quot;open quote”)" in page
    assert [i.text for i in subscriber.interests.all()] == ["anomaly detection"]


def test_a_pause_moves_the_next_digest_to_its_last_day(client, make_subscriber):
    subscriber = make_subscriber(time_zone="Europe/Paris", send_hour=8)
    until = timezone.localdate() + timedelta(days=10)

    client.post(
        manage_url(subscriber),
        form_data(
            paused_until=until.isoformat(),
            frequency="daily",
            time_zone="Europe/Paris",
            send_hour="8",
        ),
    )

    subscriber.refresh_from_db()
    assert subscriber.paused_until == until
    paris = subscriber.next_digest_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.date(), paris.hour) == (until, 8)


def test_a_paused_subscriber_gets_nothing_even_when_due(make_subscriber, ingested_papers):
    subscriber = make_subscriber()
    Subscriber.objects.filter(pk=subscriber.pk).update(
        paused_until=timezone.localdate() + timedelta(days=3)
    )

    tasks.dispatch_digests()

    assert mail.outbox == []
    assert subscriber.deliveries.get().status == "skipped"


def test_unsubscribing_from_the_manage_page(client, make_subscriber):
    subscriber = make_subscriber()

    response = client.post(manage_url(subscriber), {"action": "unsubscribe"})

    assert "You are unsubscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_deleting_everything_needs_the_box_ticked_and_keeps_only_a_consent_record(
    client, make_subscriber
):
    subscriber = make_subscriber(email="Ada@Example.com")
    url = manage_url(subscriber)

    refused = client.post(url, {"action": "delete"})
    assert refused.status_code == 400
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()

    deleted = client.post(url, {"action": "delete", "confirm_delete": "yes"})

    assert "Your data is deleted" in deleted.content.decode()
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert not Interest.objects.exists()
    record = ConsentRecord.objects.get()
    assert record.email_sha256 == services.email_digest("ada@example.com")
    assert record.deleted_by == "subscriber"
    assert record.signed_up_at == subscriber.signed_up_at
    assert "ada" not in str(record.__dict__).lower()
    assert client.get(url).status_code == 400  # the link now leads nowhere


def test_every_digest_carries_a_working_manage_link(client, make_subscriber, ingested_papers):
    make_subscriber()
    tasks.dispatch_digests()

    path = re.search(r"https://paperboy\.example(/manage/[^/\s]+/)", mail.outbox[0].body).group(1)

    assert client.get(path).status_code == 200


@pytest.mark.parametrize("known", [True, False])
def test_asking_for_the_link_answers_the_same_whether_the_address_is_known(
    client, make_subscriber, django_capture_on_commit_callbacks, known
):
    make_subscriber(email="ada@example.com")
    email = "ada@example.com" if known else "nobody@example.com"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("subscriptions:request_link"), {"email": email})

    assert response.status_code == 302
    assert response["Location"] == reverse("subscriptions:check_inbox")
    assert len(mail.outbox) == (1 if known else 0)
    if known:
        assert mail.outbox[0].subject == "Your Paperboy link"
        assert "/manage/" in mail.outbox[0].body


def test_link_requests_are_rate_limited_per_ip(client, settings):
    settings.LINK_REQUEST_RATE_LIMIT_PER_HOUR = 2
    url = reverse("subscriptions:request_link")

    codes = [client.post(url, {"email": f"x{i}@example.com"}).status_code for i in range(3)]

    assert codes == [302, 302, 429]


def test_the_live_preview_counts_recent_matches_and_shows_the_first_titles(client, ingested_papers):
    response = client.get(
        reverse("subscriptions:preview_matches"), {"interests": "anomaly detection\nLLM"}
    )

    data = response.json()
    # The two anomaly detection papers; the third paper (accelerating multimodal
    # foundation models) names LLMs only in passing ("an LLM-aided design approach").
    assert (response.status_code, data["days"], data["total"]) == (200, 7, 2)
    assert data["papers"][0]["title"].startswith("Performance Anomaly Detection in Athletics")
    assert data["papers"][0]["url"] == "https://arxiv.org/abs/2604.21953"


def test_the_live_preview_respects_categories_and_refuses_bad_interests(client, ingested_papers):
    url = reverse("subscriptions:preview_matches")

    in_category = client.get(url, {"interests": "anomaly detection", "categories": "cs.AR"})
    invalid = client.get(url, {"interests": "LLM\nAND"})

    assert in_category.json()["total"] == 0
    assert invalid.status_code == 400
    assert invalid.json()["errors"] == [
        "Line 2: AND needs something to look for on both sides (at character 1 of “AND”)"
    ]


def test_the_preview_button_works_without_javascript_and_signs_nobody_up(client, ingested_papers):
    response = client.post(
        "/",
        {
            "email": "ada@example.com",
            "interests": "anomaly detection",
            "frequency": "daily",
            "send_hour": "8",
            "time_zone": "UTC",
            "preview": "1",
        },
    )

    page = response.content.decode()
    assert "<strong>2</strong> papers of the last 7 days would have matched" in page
    assert not Subscriber.objects.exists()


def test_categories_chosen_at_signup_limit_the_digest(make_subscriber, ingested_papers):
    make_subscriber(interests=("anomaly detection",), categories=["cs.CY"])

    tasks.dispatch_digests()

    body = mail.outbox[0].body
    assert "Performance Anomaly Detection in Athletics" in body  # cs.LG and cs.CY
    assert "Conditional anomaly detection" not in body  # cs.LG only


@pytest.mark.parametrize("path", ["/", "/my-link/", "/admin/login/"])
def test_every_page_has_a_content_security_policy(client, path):
    policy = client.get(path).headers["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'self'" in policy
    assert "unsafe-inline" not in policy
