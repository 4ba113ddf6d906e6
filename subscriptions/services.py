"""Signing up, confirming and leaving: the rules, as plain functions.

Views and tasks call these and stay thin. Email is never sent from here: tasks
are enqueued to run after the transaction commits, so a web response never
waits on (or reveals the failure of) the email provider.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from digest import personal
from digest import tasks as digest_tasks
from subscriptions import addresses, feeds, ratelimit, tasks
from subscriptions.models import ConsentRecord, Interest, Subscriber
from subscriptions.tokens import BadToken

# Known addresses in these states take a new signup, to be applied once confirmed.
AWAITING_CONFIRMATION = (Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED)


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


def _mail_on_commit(task, subscriber: Subscriber) -> None:
    # Mail-bombing guard: past the limit the address gets nothing more, and
    # the web response stays the same, so the limit reveals nothing either.
    if ratelimit.allow_account_email(subscriber.email):
        task.delay_on_commit(subscriber.pk)


def sign_up(request: SignupRequest, now: datetime | None = None) -> None:
    """Record a signup and mail the address; the caller learns nothing more, not even
    from how long it took.

    Every address costs the same whatever its state: one statement (an insert that
    turns into an update for a known address) and one task, which decides in the
    worker what to send (tasks.send_signup_email). The choices just made are kept in
    `unconfirmed_signup` and applied only when the confirmation link is pressed, so a
    stranger typing someone's address changes nothing of theirs: a pending or
    unsubscribed address keeps its interests and schedule until then, and an active
    or suppressed one keeps everything (their `unconfirmed_signup` is not written).
    """
    now = now or timezone.now()
    email = addresses.normalize_email(request.email)
    subscriber_id = _record_signup(email, _signup_record(request, now), now)
    tasks.send_signup_email.delay_on_commit(subscriber_id)


def _signup_record(request: SignupRequest, now: datetime) -> dict:
    """A signup as `unconfirmed_signup` keeps it (JSON)."""
    return {
        "interests": list(request.interests),
        "frequency": request.frequency,
        "time_zone": request.time_zone,
        "send_hour": request.send_hour,
        "categories": list(request.categories),
        "signed_up_at": now.isoformat(),
        "ip": request.ip,
        "user_agent": request.user_agent[:300],
    }


def _record_signup(email: str, signup: dict, now: datetime) -> int:
    """Insert a pending subscriber for `email`, or, when the address is known, keep
    `signup` on it if it awaits a confirmation; the subscriber's id either way.

    One INSERT ... ON CONFLICT on the unique index of the lower-cased address, the
    same statement for every state (the ORM has no upsert on an expression index, nor
    an update that depends on the row's state). The columns are the model's own, so a
    new field needs nothing here.
    """
    fields = [field for field in Subscriber._meta.concrete_fields if not field.primary_key]
    new = Subscriber(
        email=email,
        status=Subscriber.Status.PENDING,
        frequency=signup["frequency"],
        time_zone=signup["time_zone"],
        send_hour=signup["send_hour"],
        categories=signup["categories"],
        signed_up_at=now,
        signup_ip=signup["ip"],
        signup_user_agent=signup["user_agent"],
        unconfirmed_signup=signup,
    )
    quote = connection.ops.quote_name
    table = quote(Subscriber._meta.db_table)
    waiting = quote(Subscriber._meta.get_field("unconfirmed_signup").column)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ((LOWER({quote('email')}))) DO UPDATE SET {waiting} = CASE "
        f"WHEN {table}.{quote('status')} IN (%s, %s) THEN EXCLUDED.{waiting} "
        f"ELSE {table}.{waiting} END "
        f"RETURNING {quote(Subscriber._meta.pk.column)}"
    )
    values = [field.get_db_prep_save(field.pre_save(new, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *AWAITING_CONFIRMATION])
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class Confirmation:
    """What pressing "confirm" starts, as the confirmation page shows it."""

    email: str
    preferences: "Preferences"
    # Names the signup shown; confirm() refuses to apply another one.
    signup_fingerprint: str


class SignupChanged(Exception):
    """The address was signed up again, with other choices, since the page was shown."""


def confirmation_of(subscriber_id: int) -> Confirmation:
    """The preferences a confirmation of this subscriber would bring; BadToken if none can."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status == Subscriber.Status.SUPPRESSED:
        raise BadToken("This link is not valid.")
    signup = subscriber.unconfirmed_signup
    preferences = (
        Preferences(
            interests=signup["interests"],
            frequency=signup["frequency"],
            send_hour=signup["send_hour"],
            time_zone=signup["time_zone"],
            categories=signup["categories"],
        )
        if signup
        else preferences_of(subscriber)
    )
    return Confirmation(subscriber.email, preferences, signup_fingerprint(signup))


def signup_fingerprint(signup: dict | None) -> str:
    if not signup:
        return ""
    return hashlib.sha256(json.dumps(signup, sort_keys=True).encode()).hexdigest()[:16]


def _apply_unconfirmed_signup(subscriber: Subscriber) -> None:
    """The waiting signup becomes the subscriber's interests, schedule and consent record."""
    signup = subscriber.unconfirmed_signup
    if not signup:
        return
    signed_up_at = datetime.fromisoformat(signup["signed_up_at"])
    subscriber.frequency = signup["frequency"]
    subscriber.time_zone = signup["time_zone"]
    subscriber.send_hour = signup["send_hour"]
    subscriber.categories = signup["categories"]
    subscriber.signed_up_at = signed_up_at
    subscriber.signup_ip = signup["ip"]
    subscriber.signup_user_agent = signup["user_agent"]
    subscriber.unconfirmed_signup = None
    subscriber.interests.all().delete()
    Interest.objects.bulk_create(
        Interest(subscriber=subscriber, text=text, created_at=signed_up_at)
        for text in signup["interests"]
    )


def confirm(
    subscriber_id: int,
    token_issued_at: float,
    shown_signup: str | None = None,
    now: datetime | None = None,
) -> Subscriber:
    """Make the subscription active with the signup waiting for it; confirming twice
    is harmless.

    A link made before the person unsubscribed cannot bring them back. Token
    times have whole seconds, so a link from the very second of leaving counts
    as made before it. `shown_signup` is the fingerprint of the signup the
    confirmation page showed: SignupChanged when another one came since, so nobody
    confirms choices they did not see.
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
        if shown_signup is not None and shown_signup != signup_fingerprint(
            subscriber.unconfirmed_signup
        ):
            raise SignupChanged
        _apply_unconfirmed_signup(subscriber)
        subscriber.status = Subscriber.Status.ACTIVE
        subscriber.confirmed_at = now
        # The first digest goes out right away, with the papers of the last
        # days; later ones at the subscriber's own hour.
        subscriber.next_digest_at = now
        feeds.give_token(subscriber)
        subscriber.save()
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
    # How much of each paper the email shows; None keeps the subscriber's choice (a
    # signup, or a manage page older than the choice, does not ask).
    digest_length: str | None = None


def preferences_of(subscriber: Subscriber) -> Preferences:
    return Preferences(
        interests=[interest.text for interest in subscriber.interests.all()],
        frequency=subscriber.frequency,
        send_hour=subscriber.send_hour,
        time_zone=subscriber.time_zone,
        categories=list(subscriber.categories),
        paused_until=subscriber.paused_until,
        digest_length=subscriber.digest_length,
    )


def _reschedule(subscriber: Subscriber, now: datetime) -> None:
    """Follow the subscriber's (new) schedule without skipping the current period's digest."""
    if subscriber.status != Subscriber.Status.ACTIVE:
        return
    # A week back covers the current period of either frequency.
    # Their own digests only: a group's digest has periods of its own (groups/).
    recent = subscriber.deliveries.filter(
        group__isnull=True, claimed_at__gte=now - timedelta(days=8)
    )
    taken = set(recent.values_list("period", flat=True))
    if subscriber.frequency == Subscriber.Frequency.WEEKLY:
        # This week's daily digests were this week's digest: whoever switches to weekly
        # mid-week waits for Monday instead of getting one more digest at once.
        taken |= {_week_of(period) for period in taken}
    subscriber.reschedule(now, taken=taken)


def _week_of(period: str) -> str:
    """The weekly period ("2026-W48") of a daily one ("2026-11-28"); a weekly one as it is."""
    if "-W" in period:
        return period
    year, week, _ = date.fromisoformat(period).isocalendar()
    return f"{year}-W{week:02d}"


def update_preferences(
    subscriber: Subscriber, preferences: Preferences, now: datetime | None = None
) -> None:
    """Save new interests and schedule; the next digest follows the new schedule.

    A pause until a day moves the next digest to that day; the first digest
    after it brings the best of the papers that came out meanwhile.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The owner's own choice: a signup waiting for confirmation has no say any more.
        subscriber.unconfirmed_signup = None
        subscriber.frequency = preferences.frequency
        subscriber.send_hour = preferences.send_hour
        subscriber.time_zone = preferences.time_zone
        subscriber.categories = list(preferences.categories)
        subscriber.paused_until = preferences.paused_until
        if preferences.digest_length:
            subscriber.digest_length = preferences.digest_length
        if subscriber.frequency == Subscriber.Frequency.FEED:
            feeds.give_token(subscriber)  # feed only: the feed is where the digests go
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
        # Papers followed (`like:` lines) are the model's likes too: train it again.
        if personal.seed_lines(existing) != personal.seed_lines(wanted):
            personal.retrain_soon(subscriber.pk)


def pause(subscriber: Subscriber, until: date, now: datetime | None = None) -> None:
    subscriber.paused_until = until
    _reschedule(subscriber, now or timezone.now())
    subscriber.save(update_fields=["paused_until", "next_digest_at"])


def pause_for(subscriber: Subscriber, length: timedelta, now: datetime | None = None) -> date:
    """Pause for `length` from the subscriber's own today (not UTC's); digests come again,
    by themselves, on the day returned."""
    now = now or timezone.now()
    until = now.astimezone(ZoneInfo(subscriber.time_zone)).date() + length
    pause(subscriber, until, now)
    return until


def switch_to_weekly(subscriber: Subscriber, now: datetime | None = None) -> None:
    """One digest a week instead of one a day, everything else as it was."""
    weekly = replace(preferences_of(subscriber), frequency=Subscriber.Frequency.WEEKLY)
    update_preferences(subscriber, weekly, now)


# What the unsubscribe page offers besides leaving (stay_instead).
PAUSE_INSTEAD = "pause"
WEEKLY_INSTEAD = "weekly"
PAUSE_INSTEAD_LENGTH = timedelta(weeks=4)


def instead_of_leaving(subscriber: Subscriber | None) -> tuple[str, ...]:
    """The choices the unsubscribe page offers besides leaving: a pause to whoever gets
    digests, and weekly ones to whoever gets them daily; nothing to anyone else."""
    if subscriber is None or subscriber.status != Subscriber.Status.ACTIVE:
        return ()
    if subscriber.frequency == Subscriber.Frequency.DAILY:
        return (PAUSE_INSTEAD, WEEKLY_INSTEAD)
    return (PAUSE_INSTEAD,)


def stay_instead(subscriber: Subscriber | None, choice: str, now: datetime | None = None) -> bool:
    """Apply `choice` when instead_of_leaving offers it to this subscriber; else change
    nothing and say False: the caller unsubscribes, as a POST to the page means."""
    if choice not in instead_of_leaving(subscriber):
        return False
    if choice == PAUSE_INSTEAD:
        pause_for(subscriber, PAUSE_INSTEAD_LENGTH, now)
    else:
        switch_to_weekly(subscriber, now)
    return True


def resume(subscriber: Subscriber, now: datetime | None = None) -> None:
    subscriber.paused_until = None
    _reschedule(subscriber, now or timezone.now())
    subscriber.save(update_fields=["paused_until", "next_digest_at"])


def follow_new_schedule(subscriber: Subscriber, now: datetime | None = None) -> None:
    """After staff change a schedule or pause in the admin, the next digest follows it, as
    after the subscriber's own change (update_preferences). The caller saves."""
    _reschedule(subscriber, now or timezone.now())


def _note_consent(subscriber: Subscriber, staff: str, what: str, now: datetime) -> None:
    """Add a line to the subscriber's consent note: when, which staff member, what."""
    line = f"{now:%Y-%m-%d %H:%M} UTC, staff {staff}: {what}"
    subscriber.consent_note = "\n".join(filter(None, [subscriber.consent_note, line]))


def add_by_staff(
    subscriber: Subscriber, staff: str, activate_because: str = "", now: datetime | None = None
) -> None:
    """Save a subscriber staff typed in (their interests are saved by the caller, in the
    same transaction).

    Like anyone who signs up, they get the confirmation link and stay pending until they
    press it. Staff who know the person agreed elsewhere say how (`activate_because`)
    to make them active at once: the consent record then keeps who did it and why.
    """
    now = now or timezone.now()
    subscriber.signed_up_at = now
    subscriber.signup_ip = None
    subscriber.signup_user_agent = ""
    subscriber.unconfirmed_signup = None
    if activate_because:
        subscriber.status = Subscriber.Status.ACTIVE
        subscriber.confirmed_at = now
        # The first digest goes out right away, as after a confirmation.
        subscriber.next_digest_at = now
        _note_consent(
            subscriber,
            staff,
            f"added as active, without the confirmation link: {activate_because}",
            now,
        )
        subscriber.save()
        digest_tasks.send_digests.delay_on_commit([subscriber.pk])
    else:
        subscriber.status = Subscriber.Status.PENDING
        subscriber.confirmed_at = None
        subscriber.next_digest_at = None
        _note_consent(subscriber, staff, "added; the confirmation link mailed", now)
        subscriber.save()
        # The signup's own task: it mails the confirmation link, within the address's limit.
        tasks.send_signup_email.delay_on_commit(subscriber.pk)


def activate_by_staff(
    subscriber: Subscriber, staff: str, because: str, now: datetime | None = None
) -> None:
    """Make a subscriber who is not active active without their confirmation link, keeping
    who did it and why in the consent record; the first digest goes out right away."""
    now = now or timezone.now()
    subscriber.status = Subscriber.Status.ACTIVE
    subscriber.confirmed_at = now
    # What staff set on the page is what counts now, not a signup still waiting.
    subscriber.unconfirmed_signup = None
    subscriber.next_digest_at = now
    _note_consent(subscriber, staff, f"activated without the confirmation link: {because}", now)
    subscriber.save()
    digest_tasks.send_digests.delay_on_commit([subscriber.pk])


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
    subscriber = Subscriber.objects.filter(email__iexact=addresses.address_key(email)).first()
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
            consent_note=subscriber.consent_note,
            deleted_at=now or timezone.now(),
            deleted_by=by,
        )
        subscriber.delete()


def email_digest(email: str) -> str:
    """The SHA-256 of an address as consent records keep it: of its address_key, which
    for a plain address is the address in lower case, trimmed (as records always had)."""
    return hashlib.sha256(addresses.address_key(email).encode()).hexdigest()
