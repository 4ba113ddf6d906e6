"""The provider's delivery reports, posted to the real webhook URLs as Postmark and
Mailgun send them (payload shapes from django-anymail's own test suite), and reports
that someone else made up."""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from anymail.signals import AnymailTrackingEvent
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from digest import checks, feedback
from digest.models import Delivery
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

SECRET = "paperboy:webhook-s3cret"
MAILGUN_KEY = "TEST_WEBHOOK_SIGNING_KEY"
POSTMARK_URL = "/anymail/postmark/tracking/"
MAILGUN_URL = "/anymail/mailgun/tracking/"
EMAIL = "ada@example.com"


@pytest.fixture(autouse=True)
def _webhook_settings(settings) -> None:
    # Anymail reads these when each request builds its view, so the fixture suffices.
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }


@pytest.fixture
def make_delivery(make_subscriber) -> Callable[..., Delivery]:
    def make(
        esp_message_id: str, subscriber: Subscriber | None = None, period: str = "2026-11-28"
    ) -> Delivery:
        subscriber = subscriber or make_subscriber(email=EMAIL)
        now = timezone.now()
        return Delivery.objects.create(
            subscriber=subscriber,
            period=period,
            window_start=now - timedelta(days=1),
            window_end=now,
            status=Delivery.Status.SENT,
            esp_message_id=esp_message_id,
        )

    return make


def post(url: str, payload: dict[str, Any] | str | bytes, auth: str | None = SECRET) -> int:
    """The status of a POST of `payload` (JSON-encoded unless already text) to `url`; a
    server error is a 500 here, as the provider would see it, not an exception."""
    headers = {}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    client = Client(raise_request_exception=False)
    response = client.post(url, data=body, content_type="application/json", **headers)
    return response.status_code


# Postmark ------------------------------------------------------------------------------

PM_ID = "2706ee8a-737c-4285-b032-ccd317af53ed"


def postmark_delivery(message_id: str = PM_ID, **extra: Any) -> dict[str, Any]:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageID": message_id,
        "Recipient": EMAIL,
        "Tag": "digest",
        "Metadata": {},
        "DeliveredAt": "2026-11-29T10:00:10.2735393-00:00",
        "Details": "smtp;250 2.0.0 OK",
        **extra,
    }


def postmark_bounce(bounce_type: str = "HardBounce", message_id: str = PM_ID) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "ID": 901542550,
        "Type": bounce_type,
        "TypeCode": 1,
        "ServerID": 23,
        "Name": "Hard bounce",
        "MessageID": message_id,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": EMAIL,
        "From": "digest@paperboy.example",
        "BouncedAt": "2026-11-29T10:00:50.3963933-00:00",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Your Paperboy digest",
    }


def postmark_spam_complaint() -> dict[str, Any]:
    return {
        "RecordType": "SpamComplaint",
        "ID": 901542551,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "MessageID": PM_ID,
        "ServerID": 1234,
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": EMAIL,
        "From": "digest@paperboy.example",
        "BouncedAt": "2026-11-29T11:00:00.0000000-00:00",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Your Paperboy digest",
    }


def test_postmark_delivered_marks_the_delivery_delivered(make_delivery):
    delivery = make_delivery(PM_ID)

    assert post(POSTMARK_URL, postmark_delivery()) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.feedback == "2026-11-29T10:00Z delivered: smtp;250 2.0.0 OK"


def test_postmark_hard_bounce_marks_bounced_and_suppresses_the_subscriber(make_delivery):
    delivery = make_delivery(PM_ID)

    assert post(POSTMARK_URL, postmark_bounce()) == 200

    delivery.refresh_from_db()
    subscriber = delivery.subscriber
    assert delivery.status == Delivery.Status.BOUNCED
    assert delivery.feedback.startswith("2026-11-29T10:00Z bounced: The server was unable")
    assert subscriber.status == Subscriber.Status.SUPPRESSED
    assert subscriber.suppressed_reason.startswith("bounced (Postmark): The server was unable")
    assert subscriber.next_digest_at is None


def test_a_later_delivered_does_not_hide_a_bounce(make_delivery):
    delivery = make_delivery(PM_ID)

    post(POSTMARK_URL, postmark_bounce())
    post(POSTMARK_URL, postmark_delivery())

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.BOUNCED
    assert len(delivery.feedback.splitlines()) == 2


def test_postmark_spam_complaint_suppresses(make_delivery):
    delivery = make_delivery(PM_ID)

    assert post(POSTMARK_URL, postmark_spam_complaint()) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.COMPLAINED
    assert delivery.subscriber.status == Subscriber.Status.SUPPRESSED
    # Postmark says nothing in the description; its details stand in.
    assert delivery.feedback == "2026-11-29T11:00Z complained: Test spam complaint details"


def test_a_retried_webhook_is_applied_once(make_delivery):
    delivery = make_delivery(PM_ID)

    post(POSTMARK_URL, postmark_bounce("SoftBounce"))
    post(POSTMARK_URL, postmark_bounce("SoftBounce"))

    delivery.refresh_from_db()
    assert delivery.subscriber.soft_bounces == 1
    assert len(delivery.feedback.splitlines()) == 1


def test_postmark_soft_bounces_suppress_only_at_the_limit(make_subscriber, make_delivery):
    subscriber = make_subscriber(email=EMAIL)
    for day in (1, 2):
        make_delivery(f"pm-{day}", subscriber, period=f"2026-11-0{day}")
        post(POSTMARK_URL, postmark_bounce("SoftBounce", message_id=f"pm-{day}"))

    subscriber.refresh_from_db()
    assert subscriber.soft_bounces == 2
    assert subscriber.status == Subscriber.Status.ACTIVE
    # A soft bounce leaves the delivery as it was: the provider may still deliver it.
    assert Delivery.objects.get(esp_message_id="pm-1").status == Delivery.Status.SENT

    make_delivery("pm-3", subscriber, period="2026-11-03")
    post(POSTMARK_URL, postmark_bounce("SoftBounce", message_id="pm-3"))

    subscriber.refresh_from_db()
    assert subscriber.soft_bounces == 3
    assert subscriber.status == Subscriber.Status.SUPPRESSED
    assert subscriber.suppressed_reason.startswith("3 soft bounces in a row: soft bounce")


def test_a_delivery_ends_the_run_of_soft_bounces(make_subscriber, make_delivery, settings):
    settings.SOFT_BOUNCE_LIMIT = 2
    subscriber = make_subscriber(email=EMAIL)
    make_delivery("pm-1", subscriber, period="2026-11-01")
    make_delivery("pm-2", subscriber, period="2026-11-02")
    make_delivery("pm-3", subscriber, period="2026-11-03")

    post(POSTMARK_URL, postmark_bounce("SoftBounce", message_id="pm-1"))
    post(POSTMARK_URL, postmark_delivery(message_id="pm-2"))
    post(POSTMARK_URL, postmark_bounce("SoftBounce", message_id="pm-3"))

    subscriber.refresh_from_db()
    assert subscriber.soft_bounces == 1
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_postmark_unsubscribe_unsubscribes(make_delivery):
    delivery = make_delivery(PM_ID)
    payload = {
        "RecordType": "SubscriptionChange",
        "MessageID": PM_ID,
        "ServerID": 23,
        "MessageStream": "broadcast",
        "ChangedAt": "2026-11-29T12:17:32Z",
        "Recipient": EMAIL,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "digest",
        "Metadata": {},
    }

    assert post(POSTMARK_URL, payload) == 200

    subscriber = Subscriber.objects.get(pk=delivery.subscriber_id)
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None


def test_an_unknown_message_id_changes_nothing(make_delivery):
    delivery = make_delivery(PM_ID)

    assert post(POSTMARK_URL, postmark_bounce(message_id="00000000-unknown")) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.feedback == ""
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE


def test_the_message_key_in_the_metadata_finds_the_delivery_when_the_id_does_not(
    make_delivery,
):
    delivery = make_delivery("")
    payload = postmark_delivery(
        message_id="id-we-never-saw", Metadata={"message_key": str(delivery.message_key)}
    )

    post(POSTMARK_URL, payload)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED


def test_metadata_naming_another_recipients_delivery_changes_nothing(make_delivery):
    delivery = make_delivery("")
    payload = postmark_bounce(message_id="id-we-never-saw")
    payload["Metadata"] = {"message_key": str(delivery.message_key)}
    payload["Email"] = "someone-else@example.org"

    post(POSTMARK_URL, payload)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE


@pytest.mark.parametrize("auth", [None, "paperboy:wrong", "intruder:webhook-s3cret"])
def test_a_request_without_the_secret_is_refused_and_changes_nothing(make_delivery, auth):
    delivery = make_delivery(PM_ID)

    assert post(POSTMARK_URL, postmark_bounce(), auth=auth) in (400, 401, 403)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE


# Mailgun -------------------------------------------------------------------------------

MG_ID = "20261129100000.1.DF5966851B4BAA99@mg.paperboy.example"


def mailgun_signed(event_data: dict[str, Any], key: str = MAILGUN_KEY) -> dict[str, Any]:
    """A Mailgun webhook body, signed as Mailgun signs it (HMAC-SHA256 of timestamp+token)."""
    timestamp, token = str(int(event_data["timestamp"])), "651869375b9df3c98fc15c4889b1021"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature.hexdigest()},
        "event-data": event_data,
    }


def mailgun_event(event: str, message_id: str = MG_ID, **extra: Any) -> dict[str, Any]:
    return {
        "event": event,
        "id": "hTWCTD81RtiDN-x",
        "timestamp": 1795860000.153125,  # 2026-11-28T10:00:00Z
        "log-level": "info",
        "recipient": EMAIL,
        "recipient-domain": "example.com",
        "tags": [],
        "user-variables": {},
        "message": {
            "headers": {
                "to": EMAIL,
                "message-id": message_id,
                "from": "digest@paperboy.example",
                "subject": "Your Paperboy digest",
            },
            "attachments": [],
            "size": 809,
        },
        **extra,
    }


def test_mailgun_delivered_marks_the_delivery_delivered(make_delivery):
    # Anymail keeps Mailgun's id in angle brackets, as the send response gave it.
    delivery = make_delivery(f"<{MG_ID}>")
    event = mailgun_event(
        "delivered", **{"delivery-status": {"code": 250, "message": "OK", "description": ""}}
    )

    assert post(MAILGUN_URL, mailgun_signed(event)) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.feedback == "2026-11-28T10:00Z delivered: OK"


def test_mailgun_permanent_failure_bounces_and_suppresses(make_delivery):
    delivery = make_delivery(f"<{MG_ID}>")
    event = mailgun_event(
        "failed",
        severity="permanent",
        reason="bounce",
        **{
            "delivery-status": {
                "code": 550,
                "description": "",
                "message": "5.1.1 The email account that you tried to reach does not exist.\n"
                "5.1.1 double-checking the recipient's email address for typos",
            }
        },
    )

    assert post(MAILGUN_URL, mailgun_signed(event)) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.BOUNCED
    assert delivery.subscriber.status == Subscriber.Status.SUPPRESSED
    assert "does not exist. 5.1.1 double-checking" in delivery.subscriber.suppressed_reason
    assert len(delivery.feedback.splitlines()) == 1


def test_mailgun_complaint_suppresses(make_delivery):
    delivery = make_delivery(f"<{MG_ID}>")

    assert post(MAILGUN_URL, mailgun_signed(mailgun_event("complained"))) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.COMPLAINED
    assert delivery.subscriber.status == Subscriber.Status.SUPPRESSED


def test_mailgun_temporary_failures_count_once_per_digest(make_subscriber, make_delivery):
    subscriber = make_subscriber(email=EMAIL)

    def temporary_failure(message_id: str, attempt: int) -> dict[str, Any]:
        status = {"attempt-no": attempt, "code": 498, "description": "No MX for example.com"}
        event = mailgun_event(
            "failed",
            message_id,
            severity="temporary",
            reason="generic",
            timestamp=1795860000 + attempt * 1800,
            **{"delivery-status": status},
        )
        return mailgun_signed(event)

    for day in (1, 2):
        make_delivery(f"<mg-{day}@x>", subscriber, period=f"2026-11-0{day}")
        for attempt in (1, 2, 3):  # Mailgun reports every retry
            assert post(MAILGUN_URL, temporary_failure(f"mg-{day}@x", attempt)) == 200

    subscriber.refresh_from_db()
    assert subscriber.soft_bounces == 2
    assert subscriber.status == Subscriber.Status.ACTIVE

    make_delivery("<mg-3@x>", subscriber, period="2026-11-03")
    post(MAILGUN_URL, temporary_failure("mg-3@x", 1))

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUPPRESSED


def test_mailgun_needs_the_secret_as_well_as_the_signature(make_delivery):
    delivery = make_delivery(f"<{MG_ID}>")

    assert post(MAILGUN_URL, mailgun_signed(mailgun_event("complained")), auth=None) == 400
    forged = mailgun_signed(mailgun_event("complained"), key="not the signing key")
    assert post(MAILGUN_URL, forged) == 400

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE


def test_mailgun_event_for_an_unknown_message_changes_nothing(make_delivery):
    delivery = make_delivery(f"<{MG_ID}>")

    post(MAILGUN_URL, mailgun_signed(mailgun_event("complained", "other@mg.example")))

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.subscriber.status == Subscriber.Status.ACTIVE


# The receiver itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        AnymailTrackingEvent(event_type="bounced"),
        AnymailTrackingEvent(event_type="bounced", metadata={"delivery_id": "not a number"}),
        AnymailTrackingEvent(event_type="complained", metadata=None, esp_event="raw text"),
        AnymailTrackingEvent(event_type="opened", message_id=PM_ID),
    ],
)
def test_odd_events_are_ignored(make_delivery, event):
    delivery = make_delivery(PM_ID)

    feedback.on_tracking_event(sender=None, event=event, esp_name="Test")

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.feedback == ""


def test_the_receiver_never_raises(make_delivery, monkeypatch, caplog):
    make_delivery(PM_ID)

    def broken(*args: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(feedback, "record_event", broken)
    event = AnymailTrackingEvent(event_type="bounced", message_id=PM_ID)

    feedback.on_tracking_event(sender=None, event=event, esp_name="Test")

    assert "Could not record Test event" in caplog.text


# Forged, misdirected and malformed posts ------------------------------------------------

# A URL configuration that mounts anymail's views as anymail ships them, unguarded.
urlpatterns = [path("anymail/", include("anymail.urls"))]


def without_the_secret(anymail: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in anymail.items() if name != "WEBHOOK_SECRET"}


def forged_bounce(delivery_id: int) -> dict[str, Any]:
    """The tester's forgery: a hard bounce naming a delivery by its primary key."""
    return {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "Metadata": {"delivery_id": str(delivery_id)},
    }


def nobody_suppressed() -> bool:
    return not Subscriber.objects.filter(status=Subscriber.Status.SUPPRESSED).exists()


def test_without_the_secret_the_webhooks_answer_404_and_suppress_nobody(
    make_subscriber, make_delivery, settings
):
    settings.ANYMAIL = without_the_secret(settings.ANYMAIL)
    deliveries = [
        make_delivery(f"pm-{n}", make_subscriber(email=f"reader{n}@example.com")) for n in range(3)
    ]

    for delivery in deliveries:  # small sequential ids: the tester counted through them
        assert post(POSTMARK_URL, forged_bounce(delivery.pk), auth=None) == 404
        assert post(POSTMARK_URL, postmark_bounce(message_id=delivery.esp_message_id)) == 404
    assert post(MAILGUN_URL, mailgun_signed(mailgun_event("complained")), auth=None) == 404

    assert nobody_suppressed()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_webhooks_turned_off_answer_404_even_with_the_secret(make_delivery, settings):
    settings.DELIVERY_WEBHOOKS = False
    delivery = make_delivery(PM_ID)

    assert post(POSTMARK_URL, postmark_bounce()) == 404

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert nobody_suppressed()


def test_with_the_secret_an_event_without_a_recipient_changes_nothing(make_delivery):
    delivery = make_delivery(PM_ID)
    bounce_without_address = postmark_bounce()
    del bounce_without_address["Email"]

    assert post(POSTMARK_URL, bounce_without_address) == 200
    assert post(POSTMARK_URL, forged_bounce(delivery.pk)) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.feedback == ""
    assert nobody_suppressed()


def test_with_the_secret_a_guessed_delivery_id_names_no_delivery(make_delivery):
    delivery = make_delivery(PM_ID)
    guessed = postmark_bounce(message_id="id-we-never-saw")
    guessed["Metadata"] = {"delivery_id": str(delivery.pk)}

    assert post(POSTMARK_URL, guessed) == 200

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert nobody_suppressed()

    # A digest sent before the message key went into the metadata carries its numeric
    # id: its late events are still matched, by the provider's message id.
    late_event_of_an_old_digest = postmark_bounce()
    late_event_of_an_old_digest["Metadata"] = {"delivery_id": str(delivery.pk)}
    assert post(POSTMARK_URL, late_event_of_an_old_digest) == 200
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.BOUNCED


def test_with_the_secret_an_event_for_another_address_changes_nothing(make_delivery):
    by_provider_id = make_delivery(PM_ID)
    by_key = make_delivery("", by_provider_id.subscriber, period="2026-11-29")
    keyed = postmark_bounce(message_id="id-we-never-saw")
    keyed["Metadata"] = {"message_key": str(by_key.message_key)}

    for payload in (postmark_bounce(), keyed):
        assert post(POSTMARK_URL, {**payload, "Email": "someone-else@example.org"}) == 200

    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert nobody_suppressed()

    # The address the digest went to, in any case, is the one that counts.
    assert post(POSTMARK_URL, {**keyed, "Email": EMAIL.upper()}) == 200
    by_key.refresh_from_db()
    assert by_key.status == Delivery.Status.BOUNCED


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (POSTMARK_URL, "{not json"),
        (POSTMARK_URL, b"\xff\xfe not text"),
        (POSTMARK_URL, "[]"),
        (POSTMARK_URL, '"a bounce"'),
        (POSTMARK_URL, "null"),
        (MAILGUN_URL, "[1, 2]"),
    ],
)
def test_a_malformed_post_answers_400_and_changes_nothing(make_delivery, url, body):
    delivery = make_delivery(PM_ID)

    assert post(url, body) == 400

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert nobody_suppressed()


def test_a_mailgun_post_missing_its_event_answers_400(make_delivery):
    make_delivery(f"<{MG_ID}>")
    signed = mailgun_signed(mailgun_event("complained"))
    del signed["event-data"]

    assert post(MAILGUN_URL, signed) == 400
    assert nobody_suppressed()


def test_the_endpoint_of_a_provider_that_is_not_configured_answers_404(make_delivery, settings):
    # Mailgun's webhook needs its signing key (or API key), Postal's its webhook key.
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    make_delivery(f"<{MG_ID}>")

    assert post(MAILGUN_URL, mailgun_signed(mailgun_event("complained"))) == 404
    assert post("/anymail/postal/tracking/", {"event": "MessageBounced"}) == 404
    assert nobody_suppressed()


def test_anymail_urls_mounted_unguarded_without_the_secret_are_a_deploy_error(settings):
    settings.ANYMAIL = without_the_secret(settings.ANYMAIL)
    settings.ROOT_URLCONF = __name__  # `urlpatterns` above: anymail's own, unguarded

    errors = checks.webhooks_are_protected()

    assert {error.id for error in errors} == {"paperboy.E003", "paperboy.E004"}
    assert all(error.is_serious() for error in errors)
    assert "anymail/brevo/tracking/" in next(e.msg for e in errors if e.id == "paperboy.E004")

    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    assert checks.webhooks_are_protected() == []
