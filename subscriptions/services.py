"""Signing up, confirming and leaving: the rules, as plain functions.

Views and tasks call these and stay thin. Email is never sent from here: tasks
are enqueued to run after the transaction commits, so a web response never
waits on (or reveals the failure of) the email provider.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from digest import tasks as digest_tasks
from subscriptions import ratelimit, tasks
from subscriptions.models import ConsentRecord, Interest, Subscriber
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
    categories: Sequence[str] = ()
    ip: str | None = None
    user_agent: str = ""


def _apply_request(subscriber: Subscriber, request: SignupRequest, now: datetime) -> None:
    subscriber.frequency = request.frequency
    subscriber.time_zone = request.time_zone
    subscriber.send_hour = request.send_hour
    subscriber.categories = list(request.categories)
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


@dataclass(frozen=True)
class Preferences:
    """What a subscriber changes on their manage page."""

    interests: Sequence[str]
    frequency: str
    send_hour: int
    time_zone: str
    categories: Sequence[str] = ()
    paused_until: date | None = None


def preferences_of(subscriber: Subscriber) -> Preferences:
    return Preferences(
        interests=[interest.text for interest in subscriber.interests.all()],
        frequency=subscriber.frequency,
        send_hour=subscriber.send_hour,
        time_zone=subscriber.time_zone,
        categories=list(subscriber.categories),
        paused_until=subscriber.paused_until,
    )


def _reschedule(subscriber: Subscriber, now: datetime) -> None:
    """Follow the subscriber's (new) schedule without skipping the current period's digest."""
    if subscriber.status != Subscriber.Status.ACTIVE:
        return
    # A week back covers the current period of either frequency.
    recent = subscriber.deliveries.filter(claimed_at__gte=now - timedelta(days=8))
    subscriber.reschedule(now, taken=set(recent.values_list("period", flat=True)))


def update_preferences(
    subscriber: Subscriber, preferences: Preferences, now: datetime | None = None
) -> None:
    """Save new interests and schedule; the next digest follows the new schedule.

    A pause until a day moves the next digest to that day; the first digest
    after it brings the best of the papers that came out meanwhile.
    """
    now = now or timezone.now()
    with transaction.atomic():
        subscriber.frequency = preferences.frequency
        subscriber.send_hour = preferences.send_hour
        subscriber.time_zone = preferences.time_zone
        subscriber.categories = list(preferences.categories)
        subscriber.paused_until = preferences.paused_until
        _reschedule(subscriber, now)
        subscriber.save()
        existing = {interest.text: interest for interest in subscriber.interests.all()}
        wanted = list(dict.fromkeys(preferences.interests))
        subscriber.interests.exclude(text__in=wanted).delete()
        Interest.objects.bulk_create(
            Interest(subscriber=subscriber, text=text, created_at=now)
            for text in wanted
            if text not in existing
        )


def pause(subscriber: Subscriber, until: date, now: datetime | None = None) -> None:
    subscriber.paused_until = until
    _reschedule(subscriber, now or timezone.now())
    subscriber.save(update_fields=["paused_until", "next_digest_at"])


def resume(subscriber: Subscriber, now: datetime | None = None) -> None:
    subscriber.paused_until = None
    _reschedule(subscriber, now or timezone.now())
    subscriber.save(update_fields=["paused_until", "next_digest_at"])


def send_digest_now(subscriber: Subscriber, now: datetime | None = None) -> bool:
    """Make an active subscriber due now; False for anyone else.

    The digest goes out once per period as always: one who already had
    today's (this week's) digest gets nothing more.
    """
    if subscriber.status != Subscriber.Status.ACTIVE:
        return False
    subscriber.next_digest_at = now or timezone.now()
    subscriber.save(update_fields=["next_digest_at"])
    digest_tasks.send_digests.delay_on_commit([subscriber.pk])
    return True


def request_manage_link(email: str) -> None:
    """Mail the owner of `email` their manage link; the caller learns nothing more."""
    subscriber = Subscriber.objects.filter(email__iexact=email.strip()).first()
    if subscriber is not None and subscriber.status in (
        Subscriber.Status.ACTIVE,
        Subscriber.Status.PENDING,
        Subscriber.Status.UNSUBSCRIBED,
    ):
        _mail_on_commit(tasks.send_manage_link_email, subscriber)


def delete_everything(subscriber: Subscriber, by: str, now: datetime | None = None) -> None:
    """Erase a subscriber, their interests and deliveries; keep only the consent record."""
    with transaction.atomic():
        ConsentRecord.objects.create(
            email_sha256=email_digest(subscriber.email),
            signed_up_at=subscriber.signed_up_at,
            signup_ip=subscriber.signup_ip,
            confirmed_at=subscriber.confirmed_at,
            unsubscribed_at=subscriber.unsubscribed_at or now or timezone.now(),
            deleted_at=now or timezone.now(),
            deleted_by=by,
        )
        subscriber.delete()


def email_digest(email: str) -> str:
    """The SHA-256 of an address as consent records keep it (lower case, trimmed)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()
