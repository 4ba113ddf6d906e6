"""One mailbox, one subscriber (issue 11, finding 2): every spelling of an address the
sender would mail at the same place is the same subscriber with the same limits; an
address that would not be mailed where it reads is refused with a message; stored
addresses are normalized and their duplicates merged; the confirmation mail carries
none of the signer's free text."""

import importlib
import re

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse

from subscriptions.models import ConsentRecord, Subscriber

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "grace@example.com",
    "interests": "anomaly detection\nlanguage models\n",
    "frequency": "daily",
    "send_hour": "7",
    "time_zone": "Europe/Paris",
    "website": "",
}

# How the tester's variants were typed; each is mailed at grace@example.com.
VARIANTS = {
    "full-width": "grace@\uff45xample.com",
    "soft hyphen": "grace@exam\u00adple.com",
    "zero-width space": "grace@exa\u200bmple.com",
    "script e": "grace@\u212fxample.com",
    "case": "GRACE@EXAMPLE.COM",
}


def _sign_up(email: str, client: Client | None = None, **fields: str):
    return (client or Client()).post("/", {**SIGNUP, "email": email, **fields})


def test_every_spelling_of_an_address_is_one_subscriber_with_one_limit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            _sign_up(email).status_code for email in ["grace@example.com", *VARIANTS.values()]
        ]

    assert statuses == [302] * 6
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["grace@example.com"]
    # Three account emails an hour per mailbox, whatever the spelling.
    assert [message.to for message in mail.outbox] == [["grace@example.com"]] * 3


# Case alone already found the subscriber before; the test above covers it.
UNICODE_VARIANTS = {name: email for name, email in VARIANTS.items() if name != "case"}


@pytest.mark.parametrize("variant", UNICODE_VARIANTS.values(), ids=UNICODE_VARIANTS.keys())
@pytest.mark.parametrize(
    ("status", "subject"),
    [
        (Subscriber.Status.ACTIVE, "You already get Paperboy digests"),
        (Subscriber.Status.PENDING, "Confirm your Paperboy subscription"),
        (Subscriber.Status.SUPPRESSED, None),
    ],
)
def test_a_spelling_of_a_known_address_lands_on_its_subscriber(
    make_subscriber, django_capture_on_commit_callbacks, variant, status, subject
):
    subscriber = make_subscriber(email="grace@example.com", status=status)

    with django_capture_on_commit_callbacks(execute=True):
        assert _sign_up(variant).status_code == 302

    assert list(Subscriber.objects.values_list("pk", flat=True)) == [subscriber.pk]
    assert [(m.subject, m.to) for m in mail.outbox] == (
        [(subject, ["grace@example.com"])] if subject else []
    )


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("rtl@exa\u202emple.com", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("rtl\u2066@example.com", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("mark@exa\u200emple.com", "U+200E LEFT-TO-RIGHT MARK"),
        ("root@[127.0.0.1]", "not at an IP address"),
        ("root@[IPv6:::1]", "not at an IP address"),
        ("root@localhost", "Use an address at a full domain name"),
        ("gr\u00e4ce@example.com", "The part before the @ can hold only"),
    ],
)
def test_an_address_mail_would_not_reach_as_it_reads_is_refused_with_a_message(
    django_capture_on_commit_callbacks, email, message
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(email)

    assert response.status_code == 200
    errors = re.search(r'<div class="field-error" role="alert">(.*?)</div>', response.text)
    assert errors and message in errors.group(1)
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_an_internationalized_domain_is_stored_as_the_sender_writes_it(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign_up("Grace@B\u00fcCHER.de")

    assert Subscriber.objects.get().email == "Grace@xn--bcher-kva.de"
    assert mail.outbox[0].to == ["Grace@xn--bcher-kva.de"]


def test_the_link_request_finds_the_subscriber_by_any_spelling(
    make_subscriber, django_capture_on_commit_callbacks
):
    make_subscriber(email="grace@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("subscriptions:request_link"), {"email": VARIANTS["full-width"]}
        )

    assert response.status_code == 302
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("Your Paperboy link", ["grace@example.com"])
    ]


def test_the_confirmation_mail_carries_no_free_text_and_the_page_shows_it(
    django_capture_on_commit_callbacks,
):
    spam = "cheap pills at http://spam.example/buy"
    with django_capture_on_commit_callbacks(execute=True):
        _sign_up("grace@example.com", interests=f"{spam}\nlanguage models")

    [message] = mail.outbox
    html = message.alternatives[0][0]
    for part in (message.subject, message.body, html):
        assert "spam.example" not in part and "pills" not in part
        assert "language models" not in part
    assert "following 2 interests" in message.body
    confirm_path = re.search(r"https://paperboy\.example(/confirm/[^/\s]+/)", message.body)[1]
    page = Client().get(confirm_path)
    assert f"<li>{spam}</li>" in page.text


def _merge():
    migration = importlib.import_module("subscriptions.migrations.0005_normalize_addresses")
    migration.normalize_and_merge(apps, None)


def test_the_migration_normalizes_stored_addresses_and_merges_spellings_safely(
    make_subscriber,
):
    # Rows as the old signup stored them.
    active = make_subscriber(email="grace@example.com", interests=("anomaly detection",))
    make_subscriber(
        email="grace@\uff45xample.com", status=Subscriber.Status.PENDING, interests=("spam",)
    )
    suppressed = make_subscriber(
        email="bob@exam\u00adple.com",
        status=Subscriber.Status.SUPPRESSED,
        suppressed_reason="bounced",
        interests=(),
    )
    make_subscriber(email="Bob@Example.com", soft_bounces=2)
    unsubscribed = make_subscriber(
        email="carol@\u212fxample.com", status=Subscriber.Status.UNSUBSCRIBED
    )
    make_subscriber(email="carol@example.com", status=Subscriber.Status.ACTIVE)
    bidi = make_subscriber(email="rtl@exa\u202emple.com")
    plain = make_subscriber(email="Dan@EXAMPLE.com.")

    _merge()

    rows = {s.pk: s for s in Subscriber.objects.all()}
    assert set(rows) == {active.pk, suppressed.pk, unsubscribed.pk, bidi.pk, plain.pk}
    # An active row outlives a pending spelling, with its own interests.
    assert rows[active.pk].email == "grace@example.com"
    assert [i.text for i in rows[active.pk].interests.all()] == ["anomaly detection"]
    # A suppression and an unsubscribe are never lost to a merge.
    assert (rows[suppressed.pk].email, rows[suppressed.pk].status) == (
        "bob@example.com",
        "suppressed",
    )
    assert rows[suppressed.pk].soft_bounces == 2
    assert (rows[unsubscribed.pk].email, rows[unsubscribed.pk].status) == (
        "carol@example.com",
        "unsubscribed",
    )
    # What mail could not reach as it reads is kept, and sent nothing more.
    assert rows[bidi.pk].status == "suppressed"
    assert "invisible or text-direction character" in rows[bidi.pk].suppressed_reason
    assert rows[bidi.pk].next_digest_at is None
    assert rows[plain.pk].email == "Dan@example.com"
    # Each row merged away leaves its consent record.
    records = ConsentRecord.objects.filter(deleted_by="merge")
    assert records.count() == 3
    from subscriptions.services import email_digest

    assert sorted(r.email_sha256 for r in records) == sorted(
        email_digest(e) for e in ["grace@example.com", "bob@example.com", "carol@example.com"]
    )

    _merge()  # a second run finds nothing more to do
    assert Subscriber.objects.count() == 5
    assert ConsentRecord.objects.count() == 3
