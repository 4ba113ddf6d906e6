"""Signing up, confirming and leaving: the rules, as plain functions.

Views and tasks call these and stay thin. Email is never sent from here: tasks
are enqueued to run after the transaction commits, so a web response never
waits on (or reveals the failure of) the email provider.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from digest import tasks as digest_tasks
from subscriptions import ratelimit, tasks
from subscriptions.models import Interest, Subscriber
from subscriptions.tokens import BadToken

# How many account emails one address can be sent in an hour, whoever asks.
EMAILS_PER_ADDRESS_PER_HOUR = 3


@dataclass(frozen=True)
class SignupRequest:
    email: str
    interests: Sequence[str]
    frequency: str = Subscriber.Frequency.DAILY
    time_zone: str = "UTC"
    send_hour: int = 8
    ip: str | None = None
    user_agent: str = ""


def _apply_request(subscriber: Subscriber, request: SignupRequest, now: datetime) -> None:
    subscriber.frequency = request.frequency
    subscriber.time_zone = request.time_zone
    subscriber.send_hour = request.send_hour
    subscriber.signed_up_at = now
    subscriber.signup_ip = request.ip
    subscriber.signup_user_agent = request.user_agent[:300]
    subscriber.save()
    subscriber.interests.all().delete()
    Interest.objects.bulk_create(
        Interest(subscriber=subscriber, text=text, created_at=now) for text in request.interests
    )


def _mail_on_commit(task, subscriber: Subscriber) -> None:
    # Mail-bombing guard: past the limit the address gets nothing more, and
    # the web response stays the same, so the limit reveals nothing either.
    if ratelimit.allow(f"mail:{subscriber.email.lower()}", EMAILS_PER_ADDRESS_PER_HOUR, 3600):
        task.delay_on_commit(subscriber.pk)


def sign_up(request: SignupRequest, now: datetime | None = None) -> None:
    """Record a signup and mail the address; the caller learns nothing more.

    New, pending and unsubscribed addresses take the interests and schedule
    just given and are sent a confirmation link; no digest goes out until the
    owner of the address confirms. An active address is only told that it
    already subscribes (a stranger cannot change its interests), and a
    suppressed one gets nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update().filter(email__iexact=request.email).first()
        )
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber(email=request.email, status=Subscriber.Status.PENDING)
                    _apply_request(subscriber, request, now)
            except IntegrityError:
                return  # the same address signed up at the same moment: that one wins
            _mail_on_commit(tasks.send_confirmation_email, subscriber)
        elif subscriber.status in (Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED):
            _apply_request(subscriber, request, now)
            _mail_on_commit(tasks.send_confirmation_email, subscriber)
        elif subscriber.status == Subscriber.Status.ACTIVE:
            _mail_on_commit(tasks.send_already_subscribed_email, subscriber)


def confirm(subscriber_id: int, token_issued_at: float, now: datetime | None = None) -> Subscriber:
    """Make the subscription active; confirming twice is harmless.

    A link made before the person unsubscribed cannot bring them back. Token
    times have whole seconds, so a link from the very second of leaving counts
    as made before it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None or subscriber.status == Subscriber.Status.SUPPRESSED:
            raise BadToken("This link is not valid.")
        if subscriber.status == Subscriber.Status.ACTIVE:
            return subscriber
        if (
            subscriber.status == Subscriber.Status.UNSUBSCRIBED
            and subscriber.unsubscribed_at is not None
            and token_issued_at <= int(subscriber.unsubscribed_at.timestamp())
        ):
            raise BadToken("This link was made before you unsubscribed; sign up again instead.")
        subscriber.status = Subscriber.Status.ACTIVE
        subscriber.confirmed_at = now
        # The first digest goes out right away, with the papers of the last
        # days; later ones at the subscriber's own hour.
        subscriber.next_digest_at = now
        subscriber.save(update_fields=["status", "confirmed_at", "next_digest_at"])
        digest_tasks.send_digests.delay_on_commit([subscriber.pk])
    return subscriber


def unsubscribe(subscriber_id: int, now: datetime | None = None) -> Subscriber | None:
    """Stop all digests to this subscriber. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None:
            return None
        if subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING):
            subscriber.status = Subscriber.Status.UNSUBSCRIBED
            subscriber.unsubscribed_at = now
            subscriber.next_digest_at = None
            subscriber.save(update_fields=["status", "unsubscribed_at", "next_digest_at"])
    return subscriber
