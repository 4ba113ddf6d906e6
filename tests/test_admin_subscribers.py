"""Staff tools for subscribers: bulk actions, CSV export, deletion that keeps
consent, the read-only consent records, and the most followed interests."""

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse
from django.utils import dateformat, timezone

from digest import sending
from digest.models import Delivery, Paper
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
    until = timezone.localdate() + timedelta(days=20)
    ada = make_subscriber(
        email="ada@example.com",
        interests=("anomaly detection", "graphs"),
        categories=["cs.LG", "stat.ML"],
        paused_until=until,
        consent_note="2026-12-01 10:00 UTC, staff editor: added; the confirmation link mailed",
    )
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
        "paused_until",
        "interests",
        "categories",
        "digest_length",
        "signed_up_at",
        "confirmed_at",
        "unsubscribed_at",
        "consent_note",
    ]
    assert len(rows) == 3
    ada_row, evil_row = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert ada_row == {
        "email": "ada@example.com",
        "status": "active",
        "frequency": "daily",
        "send_hour": "8",
        "time_zone": "UTC",
        "paused_until": until.isoformat(),
        "interests": "anomaly detection | graphs",
        "categories": "cs.LG | stat.ML",
        "digest_length": "short",
        "signed_up_at": ada.signed_up_at.isoformat(),
        "confirmed_at": ada.confirmed_at.isoformat(),
        "unsubscribed_at": "",
        "consent_note": "2026-12-01 10:00 UTC, staff editor: added; the confirmation link mailed",
    }
    assert (evil_row["paused_until"], evil_row["categories"]) == ("", "")
    # A cell a spreadsheet would run as a formula starts with a quote instead.
    assert evil_row["email"] == "'=HYPERLINK(1)@example.com"
    assert evil_row["interests"] == "'=cmd|' /C calc'!A0 | +sum | -x | @foo | plain"
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


def _add_subscriber(admin_client, email: str, interests: tuple[str, ...] = (), **fields):
    data = {
        "email": email,
        "start": "confirm",
        "frequency": "daily",
        "digest_length": "short",
        "send_hour": "8",
        "time_zone": "UTC",
        "interests-TOTAL_FORMS": str(len(interests)),
        "interests-INITIAL_FORMS": "0",
        "interests-MIN_NUM_FORMS": "0",
        "interests-MAX_NUM_FORMS": "1000",
        **{f"interests-{n}-text": text for n, text in enumerate(interests)},
        **fields,
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


def test_staff_add_a_subscriber_who_confirms_like_anyone_who_signs_up(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _add_subscriber(
            admin_client, "ada@example.com", ("anomaly detection",), categories=["cs.LG"]
        )

    assert response.status_code == 302
    ada = Subscriber.objects.get(email="ada@example.com")
    assert ada.status == Subscriber.Status.PENDING
    assert (ada.confirmed_at, ada.next_digest_at, ada.signup_ip) == (None, None, None)
    assert ada.consent_note.endswith("staff admin: added; the confirmation link mailed")
    assert ada.categories == ["cs.LG"]
    assert [i.text for i in ada.interests.all()] == ["anomaly detection"]
    [confirmation] = mail.outbox
    assert confirmation.to == ["ada@example.com"]
    assert "/confirm/" in confirmation.body
    assert not Delivery.objects.exists()


def test_staff_make_a_subscriber_active_at_once_only_saying_how_they_agreed(
    admin_client, ingested_papers, django_capture_on_commit_callbacks
):
    refused = _add_subscriber(
        admin_client, "ada@example.com", ("anomaly detection",), start="activate"
    )

    assert refused.status_code == 200
    assert "Say how they agreed to get digests" in refused.content.decode()
    assert not Subscriber.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        added = _add_subscriber(
            admin_client,
            "ada@example.com",
            ("anomaly detection",),
            start="activate",
            staff_reason="asked at the stand, NeurIPS 2026, signed form 17",
        )

    assert added.status_code == 302
    ada = Subscriber.objects.get()
    assert ada.status == Subscriber.Status.ACTIVE
    assert ada.confirmed_at is not None
    assert ada.consent_note.endswith(
        "staff admin: added as active, without the confirmation link: "
        "asked at the stand, NeurIPS 2026, signed form 17"
    )
    # Their first digest, as after a confirmation; no confirmation link.
    [digest] = mail.outbox
    assert "/confirm/" not in digest.body
    assert Delivery.objects.get(subscriber=ada).status == Delivery.Status.SENT

    # Deleting them keeps how they agreed.
    admin_client.post(
        reverse("admin:subscriptions_subscriber_delete", args=[ada.pk]), {"post": "yes"}
    )
    assert ConsentRecord.objects.get().consent_note == ada.consent_note


def _change_data(subscriber: Subscriber, **fields) -> dict:
    interests = list(subscriber.interests.all())
    data = {
        "email": subscriber.email,
        "status": subscriber.status,
        "frequency": subscriber.frequency,
        "send_hour": str(subscriber.send_hour),
        "time_zone": subscriber.time_zone,
        "paused_until": subscriber.paused_until.isoformat() if subscriber.paused_until else "",
        "categories": list(subscriber.categories),
        "digest_length": subscriber.digest_length,
        "next_digest_at_0": subscriber.next_digest_at.strftime("%Y-%m-%d")
        if subscriber.next_digest_at
        else "",
        "next_digest_at_1": subscriber.next_digest_at.strftime("%H:%M:%S")
        if subscriber.next_digest_at
        else "",
        "interests-TOTAL_FORMS": str(len(interests)),
        "interests-INITIAL_FORMS": str(len(interests)),
        "interests-MIN_NUM_FORMS": "0",
        "interests-MAX_NUM_FORMS": "1000",
    }
    for n, interest in enumerate(interests):
        data[f"interests-{n}-id"] = str(interest.pk)
        data[f"interests-{n}-subscriber"] = str(subscriber.pk)
        data[f"interests-{n}-text"] = interest.text
    data.update(fields)
    return data


def test_staff_activate_a_pending_subscriber_only_saying_how_they_agreed(
    admin_client, make_subscriber, django_capture_on_commit_callbacks
):
    pending = make_subscriber(status=Subscriber.Status.PENDING, due=False)
    url = reverse("admin:subscriptions_subscriber_change", args=[pending.pk])

    refused = admin_client.post(url, _change_data(pending, status="active"))
    with django_capture_on_commit_callbacks(execute=True):
        saved = admin_client.post(
            url, _change_data(pending, status="active", staff_reason="confirmed by phone")
        )

    assert "Say how they agreed to get digests" in refused.content.decode()
    assert saved.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.ACTIVE
    assert pending.confirmed_at is not None
    assert pending.consent_note.endswith(
        "staff admin: activated without the confirmation link: confirmed by phone"
    )


def test_the_subscriber_page_shows_and_edits_the_pause_and_the_categories(
    admin_client, make_subscriber
):
    ada = make_subscriber(due=False, categories=["cs.LG", "hep-th"])
    url = reverse("admin:subscriptions_subscriber_change", args=[ada.pk])
    run_action(admin_client, "pause_four_weeks", ada)
    ada.refresh_from_db()
    paused_until = ada.paused_until

    page = admin_client.get(url).content.decode()

    assert f'name="paused_until" value="{paused_until:%Y-%m-%d}"' in page
    assert 'value="cs.LG" id="id_categories_0" checked>' in page
    assert 'value="stat.ML" id="id_categories_6">' in page
    # A category the form does not offer any more stays, and stays chosen.
    assert 'value="hep-th" id="id_categories_14" checked>' in page

    later = timezone.localdate() + timedelta(days=10)
    saved = admin_client.post(
        url, _change_data(ada, paused_until=later.isoformat(), categories=["stat.ML", "hep-th"])
    )

    assert saved.status_code == 302
    ada.refresh_from_db()
    assert ada.paused_until == later
    assert ada.categories == ["stat.ML", "hep-th"]
    # The next digest follows the new pause: at their hour (8 UTC) on its last day.
    assert (ada.next_digest_at.date(), ada.next_digest_at.hour) == (later, 8)
    changelist = admin_client.get(CHANGELIST).content.decode()
    shown = dateformat.format(later, settings.DATE_FORMAT)
    assert f'<td class="field-paused_until nowrap">{shown}</td>' in changelist


def test_the_subscriber_page_refuses_an_interest_repeated_in_another_case(
    admin_client, make_subscriber
):
    ada = make_subscriber(interests=("anomaly detection",))
    url = reverse("admin:subscriptions_subscriber_change", args=[ada.pk])
    data = _change_data(ada)
    data.update(
        {
            "interests-TOTAL_FORMS": "2",
            "interests-1-subscriber": str(ada.pk),
            "interests-1-text": "  Anomaly   Detection ",
        }
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "repeats the interest “anomaly detection”" in response.content.decode()
    assert [i.text for i in ada.interests.all()] == ["anomaly detection"]


# The preview: any window, and a test digest to the staff member


def _sent_digest(ada: Subscriber) -> None:
    """Ada's digest of today went out: the window since it is empty."""
    sending.send_digest(ada.pk)
    assert Delivery.objects.get(subscriber=ada).status == Delivery.Status.SENT
    mail.outbox.clear()


def test_the_preview_shows_the_last_days_after_a_digest_went_out(
    admin_client, make_subscriber, ingested_papers, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    _sent_digest(ada)
    url = reverse("admin:subscriptions_subscriber_preview", args=[ada.pk])

    since_last = admin_client.get(url)
    last_week = admin_client.get(url, {"window": "7"})
    last_day = admin_client.get(url, {"window": "1"})

    assert since_last.context["preview"].items == []
    assert len(last_week.context["preview"].items) == 2
    assert len(last_day.context["preview"].items) == 2
    assert "the last 7 days" in last_week.content.decode()


def test_a_test_digest_goes_to_the_staff_member_and_leaves_the_subscriber_alone(
    admin_client, admin_user, make_subscriber, ingested_papers, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    _sent_digest(ada)
    ada.refresh_from_db()
    before = (ada.next_digest_at, ada.paused_until, ada.status)
    url = reverse("admin:subscriptions_subscriber_preview", args=[ada.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"window": "7"}, follow=True)

    [message] = mail.outbox
    assert message.to == [admin_user.email]
    assert message.subject.startswith("[Test digest of ada@example.com] 2 new papers")
    assert "Performance Anomaly Detection" in message.body
    # Nothing in it acts on Ada's account, and no mail program offers to unsubscribe her.
    html = message.alternatives[0][0]
    assert "List-Unsubscribe" not in message.extra_headers
    # No empty account lines in the plain text either: it says it is a copy.
    assert "Unsubscribe:" not in message.body
    assert "A copy of a Paperboy digest, without its reader's links." in message.body
    for link in ("/unsubscribe/", "/manage/", "/digest/"):
        assert link not in message.body and link not in html
    assert "Sent the test digest (2 paper(s)) to admin@example.com" in messages_of(response)[0]
    ada.refresh_from_db()
    assert (ada.next_digest_at, ada.paused_until, ada.status) == before
    assert Delivery.objects.filter(subscriber=ada).count() == 1
    assert not LogEntry.objects.exists()


def test_no_test_digest_without_a_staff_address(admin_client, admin_user, make_subscriber):
    admin_user.email = ""
    admin_user.save()
    ada = make_subscriber()
    url = reverse("admin:subscriptions_subscriber_preview", args=[ada.pk])

    response = admin_client.post(url, {"window": "7"}, follow=True)

    assert mail.outbox == []
    assert "Your staff account has no email address" in messages_of(response)[0]


def test_the_subscriber_page_reports_what_each_interest_finds_lately(
    admin_client, make_subscriber, ingested_papers
):
    ada = make_subscriber(interests=("anomaly detection", "anomaly detecton", "quantum gravity"))

    page = admin_client.get(reverse("admin:subscriptions_subscriber_change", args=[ada.pk]))

    html = page.content.decode()
    report = html[html.index('<table class="interest-report">') :]
    report = report[: report.index("</table>")]
    rows = report.split("<tr>")[2:]  # after the header's
    assert "<code>anomaly detection</code>" in rows[0]
    assert '<td class="matches">2</td>' in rows[0]
    assert "Performance Anomaly Detection" in rows[0]
    assert '<td class="matches">0</td>' in rows[1]
    assert "No paper of the last 7 days; did you mean “anomaly detection”?" in rows[1]
    assert "<code>quantum gravity</code>" in rows[2]
    assert "No paper of the last 7 days" in rows[2]


def test_a_test_digest_is_as_long_as_the_subscriber_chose_and_names_silent_interests(
    admin_client, make_subscriber, ingested_papers
):
    ada = make_subscriber(
        interests=("anomaly detection", "quantum gravity"),
        digest_length=Subscriber.DigestLength.TITLES,
    )
    url = reverse("admin:subscriptions_subscriber_preview", args=[ada.pk])
    abstract = Paper.objects.get(title__contains="Athletics").abstract

    admin_client.post(url, {"window": "7"})
    ada.digest_length = Subscriber.DigestLength.FULL
    ada.save()
    admin_client.post(url, {"window": "7"})

    titles_only, full = mail.outbox
    assert "Performance Anomaly Detection" in titles_only.body
    assert abstract[:60] not in titles_only.body
    assert " ".join(abstract.split())[:60] in " ".join(full.body.split())
    for message in (titles_only, full):
        assert "Nothing new this time for: quantum gravity." in message.body
