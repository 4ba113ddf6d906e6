"""Staff tools for subscribers: bulk actions, CSV export, deletion that keeps
consent, the read-only consent records, and the most followed interests."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from digest.models import Delivery
from subscriptions.models import ConsentRecord, Interest, Subscriber
from subscriptions.services import email_digest

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriptions_subscriber_changelist")
CONSENT_LIST = reverse("admin:subscriptions_consentrecord_changelist")
INTERESTS = reverse("admin:subscriptions_subscriber_interests")


def run_action(client, action: str, *subscribers: Subscriber, **extra):
    data = {"action": action, "_selected_action": [s.pk for s in subscribers], **extra}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Actions


def test_send_digest_now_sends_one_digest_per_period(
    admin_client, make_subscriber, ingested_papers, django_capture_on_commit_callbacks
):
    ada = make_subscriber(email="ada@example.com", due=False)
    pending = make_subscriber(email="pen@example.com", status=Subscriber.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "send_digest_now", ada, pending)

    ada.refresh_from_db()
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert Delivery.objects.get(subscriber=ada).status == Delivery.Status.SENT
    # Sent now, and the next one is scheduled at the next daily send time.
    assert ada.next_digest_at > timezone.now()
    [message] = messages_of(response)
    assert "Queued the digest of 1 subscriber;" in message
    assert "already had this period's digest gets nothing more" in message
    assert "1 not active" in message

    # Again in the same period: queued, but nothing more goes out.
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "send_digest_now", ada)

    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(subscriber=ada).count() == 1


def test_pause_for_four_weeks_then_resume(admin_client, make_subscriber):
    ada = make_subscriber(email="ada@example.com", due=False)
    until = timezone.localdate() + timedelta(days=28)

    response = run_action(admin_client, "pause_four_weeks", ada)

    ada.refresh_from_db()
    assert ada.paused_until == until
    # The first digest after the pause goes out at their hour (8 UTC) on that day.
    assert (ada.next_digest_at.date(), ada.next_digest_at.hour) == (until, 8)
    assert messages_of(response) == [f"Paused 1 subscriber(s) until {until:%Y-%m-%d}."]

    today_at_eight = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
    response = run_action(admin_client, "resume", ada)

    ada.refresh_from_db()
    assert ada.paused_until is None
    # Back on the daily schedule, not the pause's end: today's digest at 8 UTC, which
    # has not gone out (due at once if that hour has passed).
    assert ada.next_digest_at == today_at_eight
    assert messages_of(response) == ["Resumed 1 subscriber(s)."]


def test_export_as_csv(admin_client, make_subscriber):
    ada = make_subscriber(email="ada@example.com", interests=("anomaly detection", "graphs"))
    evil = make_subscriber(
        email="=HYPERLINK(1)@example.com",
        interests=("=cmd|' /C calc'!A0", "+sum", "-x", "@foo", "plain"),
        status=Subscriber.Status.PENDING,
    )
    make_subscriber(email="not-selected@example.com")

    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [ada.pk, evil.pk]}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="subscribers-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "email",
        "status",
        "frequency",
        "send_hour",
        "time_zone",
        "interests",
        "signed_up_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    assert len(rows) == 3
    ada_row, evil_row = rows[1], rows[2]
    assert ada_row[:6] == [
        "ada@example.com",
        "active",
        "daily",
        "8",
        "UTC",
        "anomaly detection | graphs",
    ]
    assert ada_row[6] == ada.signed_up_at.isoformat()
    assert ada_row[8] == ""
    # A cell a spreadsheet would run as a formula starts with a quote instead.
    assert evil_row[0] == "'=HYPERLINK(1)@example.com"
    assert evil_row[5] == "'=cmd|' /C calc'!A0 | +sum | -x | @foo | plain"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# Deletion keeps the consent record


def test_deleting_a_subscriber_keeps_a_consent_record(admin_client, make_subscriber):
    ada = make_subscriber(email="Ada@Example.com", interests=("a", "b"))
    url = reverse("admin:subscriptions_subscriber_delete", args=[ada.pk])

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert not Interest.objects.exists()
    record = ConsentRecord.objects.get()
    assert record.email_sha256 == email_digest("ada@example.com")
    assert record.deleted_by == "staff"
    assert record.signed_up_at == ada.signed_up_at
    assert record.confirmed_at == ada.confirmed_at


def test_bulk_delete_keeps_a_consent_record_each(admin_client, make_subscriber):
    ada = make_subscriber(email="ada@example.com")
    bob = make_subscriber(email="bob@example.com")
    kept = make_subscriber(email="kept@example.com")

    run_action(admin_client, "delete_selected", ada, bob, post="yes")

    assert list(Subscriber.objects.all()) == [kept]
    assert list(Interest.objects.values_list("subscriber", flat=True)) == [kept.pk]
    assert sorted(ConsentRecord.objects.values_list("email_sha256", flat=True)) == sorted(
        [email_digest("ada@example.com"), email_digest("bob@example.com")]
    )
    assert set(ConsentRecord.objects.values_list("deleted_by", flat=True)) == {"staff"}


# The consent records admin


@pytest.fixture
def consent_records() -> list[ConsentRecord]:
    now = timezone.now()
    return [
        ConsentRecord.objects.create(
            email_sha256=email_digest(email), signed_up_at=now, deleted_by="subscriber"
        )
        for email in ("ada@example.com", "bob@example.com")
    ]


def test_a_consent_record_is_found_by_exact_email(admin_client, consent_records):
    ada, bob = consent_records

    response = admin_client.get(CONSENT_LIST, {"q": "  ADA@example.com "})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [ada]
    assert ada.email_sha256[:12].encode() in response.content
    assert bob.email_sha256[:12].encode() not in response.content

    response = admin_client.get(CONSENT_LIST, {"q": "nobody@example.com"})

    assert list(response.context["cl"].result_list) == []

    response = admin_client.get(CONSENT_LIST, {"q": bob.email_sha256[:10]})

    assert list(response.context["cl"].result_list) == [bob]


def test_consent_records_are_read_only(admin_client, consent_records):
    ada = consent_records[0]
    change = reverse("admin:subscriptions_consentrecord_change", args=[ada.pk])

    listing = admin_client.get(CONSENT_LIST)
    page = admin_client.get(change)

    assert listing.status_code == 200
    assert b"delete_selected" not in listing.content
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get(reverse("admin:subscriptions_consentrecord_add")).status_code == 403
    assert admin_client.post(change, {"deleted_by": "x"}).status_code == 403
    delete = reverse("admin:subscriptions_consentrecord_delete", args=[ada.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert ConsentRecord.objects.count() == 2
    assert ConsentRecord.objects.get(pk=ada.pk).deleted_by == "subscriber"


# Most followed interests


def test_most_followed_interests_with_their_recent_matches(
    admin_client, make_subscriber, ingested_papers
):
    make_subscriber(email="ada@example.com", interests=("anomaly detection", "graph networks"))
    make_subscriber(email="bob@example.com", interests=("Anomaly Detection",))
    make_subscriber(email="cy@example.com", interests=("anomaly detection", "hardware"))
    make_subscriber(email="dee@example.com", interests=("hardware",))
    # Only active subscribers count.
    make_subscriber(
        email="gone@example.com",
        interests=("graph networks", "quantum chemistry"),
        status=Subscriber.Status.UNSUBSCRIBED,
    )

    response = admin_client.get(INTERESTS)

    assert response.status_code == 200
    rows = [(r["text"].lower(), r["followers"], r["matched"]) for r in response.context["rows"]]
    assert rows == [
        ("anomaly detection", 3, 2),
        ("hardware", 2, 1),
        ("graph networks", 1, 0),
    ]
    assert b"quantum chemistry" not in response.content


def test_the_interests_page_is_linked_from_the_list_and_for_staff_only(client, admin_client):
    assert INTERESTS.encode() in admin_client.get(CHANGELIST).content

    response = client.get(INTERESTS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# Addresses typed by staff: the same normalization as the signup form


def _add_subscriber(admin_client, email: str):
    data = {
        "email": email,
        "status": "active",
        "frequency": "daily",
        "send_hour": "8",
        "time_zone": "UTC",
        "next_digest_at_0": "",
        "next_digest_at_1": "",
        "interests-TOTAL_FORMS": "0",
        "interests-INITIAL_FORMS": "0",
        "interests-MIN_NUM_FORMS": "0",
        "interests-MAX_NUM_FORMS": "1000",
    }
    return admin_client.post(reverse("admin:subscriptions_subscriber_add"), data)


def test_staff_add_an_address_in_its_one_spelling(admin_client, make_subscriber):
    make_subscriber(email="grace@example.com")

    added = _add_subscriber(admin_client, "Ada@\uff25xam\u00adple.COM")
    variant = _add_subscriber(admin_client, "grace@\u212fxample.com")
    bidi = _add_subscriber(admin_client, "rtl@exa\u202emple.com")
    ip_literal = _add_subscriber(admin_client, "root@[127.0.0.1]")

    assert added.status_code == 302
    assert Subscriber.objects.filter(email="Ada@example.com").exists()
    assert "A subscriber with this address already exists." in variant.content.decode()
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in bidi.content.decode()
    assert "not at an IP address" in ip_literal.content.decode()
    assert Subscriber.objects.count() == 2
