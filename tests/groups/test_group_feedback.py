"""The provider's reports on a group's digest, and staff's "retry now": the same rules as
for a subscriber's own digest, applied to the group."""

from datetime import timedelta

import pytest
from anymail.signals import AnymailTrackingEvent
from django.core import mail
from django.utils import timezone

from digest import feedback, sending, tasks
from digest.models import Delivery, Paper
from groups import sending as group_sending
from groups.models import Group, Membership
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

BEA = "bea@lab.example"


def _report(kind: str, delivery: Delivery) -> None:
    event = AnymailTrackingEvent(
        event_type=kind, message_id=delivery.esp_message_id, recipient=BEA, metadata={}
    )
    feedback.record_event(event, "test")


def _send_tomorrow(group: Group) -> list[str]:
    mail.outbox.clear()
    tomorrow = Group.objects.get(pk=group.pk).next_digest_at + timedelta(minutes=1)
    Paper.objects.update(first_seen=tomorrow - timedelta(hours=1))
    group_sending.send_groups([group.pk], tomorrow)
    return sorted(m.to[0] for m in mail.outbox)


def test_an_unsubscribe_report_on_a_group_digest_leaves_that_group_only(
    make_group, make_subscriber
):
    reader = make_subscriber(email=BEA)
    group = make_group(members=(BEA,))
    tasks.dispatch_digests()
    grouped = Delivery.objects.get(subscriber=reader, group=group)

    _report("unsubscribed", grouped)

    assert Membership.objects.get(email=BEA).status == Membership.Status.LEFT
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE  # her own digests go on
    assert BEA not in _send_tomorrow(group)


def test_a_bounce_on_a_group_digest_suppresses_the_address_for_every_digest(make_group):
    group = make_group(members=(BEA,))
    tasks.dispatch_digests()
    grouped = Delivery.objects.get(subscriber__email=BEA, group=group)

    _report("bounced", grouped)

    assert Subscriber.objects.get(email=BEA).status == Subscriber.Status.SUPPRESSED
    assert _send_tomorrow(group) == ["owner@lab.example"]


def test_retry_now_takes_a_members_latest_group_digest_not_an_older_one(make_group):
    group = make_group(members=(BEA,))
    now = timezone.now()
    older = Delivery.objects.create(
        subscriber=Subscriber.objects.get(email=BEA), group=group, period="2026-01-01",
        window_start=now - timedelta(days=2), window_end=now - timedelta(days=1),
        claimed_at=now - timedelta(days=1), status=Delivery.Status.FAILED,
    )  # fmt: skip
    latest = Delivery.objects.create(
        subscriber=older.subscriber, group=group, period="2026-01-02",
        window_start=now - timedelta(days=1), window_end=now, claimed_at=now,
        status=Delivery.Status.FAILED,
    )  # fmt: skip
    # Her own digest, later than both, is no reason to drop the group's latest.
    Delivery.objects.create(
        subscriber=older.subscriber, period="2026-01-03", window_start=now,
        window_end=now, claimed_at=now + timedelta(hours=1), status=Delivery.Status.FAILED,
    )  # fmt: skip

    assert sending.retry_now(Delivery.objects.filter(group=group)) == 1

    latest.refresh_from_db()
    older.refresh_from_db()
    assert (latest.status, older.status) == (Delivery.Status.RETRY, Delivery.Status.FAILED)
