from collections.abc import Collection
from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from digest import schedule
from digest.matching import InterestSyntaxError, validate_interest


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    # A set lookup, not ZoneInfo(value): user input never becomes a file path.
    if value not in known_time_zones():
        raise ValidationError(f"{value!r} is not a known time zone (try Europe/Paris or UTC).")


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending confirmation"
        ACTIVE = "active"
        UNSUBSCRIBED = "unsubscribed"
        SUPPRESSED = "suppressed", "suppressed (bounced or complained)"

    class Frequency(models.TextChoices):
        DAILY = schedule.DAILY
        WEEKLY = schedule.WEEKLY, "weekly (Mondays)"
        # Daily digests kept for the subscriber's feed and archive, no email
        # (digest.sending records them; the schedule treats it as daily).
        FEED = "feed", "feed only (no email)"

    class DigestLength(models.TextChoices):
        TITLES = "titles", "titles only"
        SHORT = "short", "short: the sentences around what matched"
        FULL = "full", "full abstracts"

    email = models.EmailField(max_length=254)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    send_hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="Local hour, 0-23."
    )
    next_digest_at = models.DateTimeField(null=True, blank=True, help_text="In UTC.")
    paused_until = models.DateField(
        null=True, blank=True, help_text="No digest before this day (the subscriber's own date)."
    )
    categories = models.JSONField(
        default=list, blank=True, help_text="Only papers in these arXiv categories; empty: all."
    )
    # How much of each paper the email shows; its web copy always has whole abstracts.
    digest_length = models.CharField(
        max_length=8, choices=DigestLength.choices, default=DigestLength.SHORT
    )
    # The private Atom feed's secret (subscriptions/feeds.py): random, not derived from
    # the address or the id, so revoking it (None) or renewing it kills the old URL.
    feed_token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False, default=None
    )
    soft_bounces = models.PositiveSmallIntegerField(
        default=0, help_text="Soft bounces in a row; past a threshold the address is suppressed."
    )
    suppressed_reason = models.CharField(max_length=200, blank=True)

    # The consent record: when and from where the subscription was made and ended.
    signed_up_at = models.DateTimeField(default=timezone.now)
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    signup_user_agent = models.CharField(max_length=300, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    consent_note = models.TextField(
        blank=True,
        editable=False,
        help_text="Staff who added or activated the address, when, and how the person agreed.",
    )
    # A signup of a new, pending or unsubscribed address waits here until its
    # confirmation link is pressed: interests, schedule and consent fields as the
    # signup form gave them (services.sign_up). Until then the row keeps its own.
    unconfirmed_signup = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="A signup waiting for its confirmation; applied when it is confirmed.",
    )

    class Meta:
        constraints = [
            # Addresses are stored normalized (subscriptions.addresses); the local
            # part keeps its case, so one mailbox is one row whatever the case.
            models.UniqueConstraint(
                Lower("email"),
                name="subscriber_email_unique_ci",
                violation_error_message="A subscriber with this address already exists.",
            ),
        ]
        indexes = [
            # dispatch_digests asks exactly this: active and due.
            models.Index(
                fields=["next_digest_at"],
                condition=models.Q(status="active"),
                name="subscriber_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    SUPPRESSION_FIELDS = ("status", "suppressed_reason", "next_digest_at")

    def mark_suppressed(self, reason: str) -> bool:
        """Send this address nothing more (saved by the caller: SUPPRESSION_FIELDS).

        False when it already was suppressed: the first reason stays.
        """
        if self.status == self.Status.SUPPRESSED:
            return False
        self.status = self.Status.SUPPRESSED
        self.suppressed_reason = reason[:200]
        self.next_digest_at = None
        return True

    def is_paused(self, moment: timezone.datetime) -> bool:
        """True while `moment` falls before the end of the pause, in the subscriber's zone."""
        end = self._pause_end()
        return end is not None and moment <= end

    def _pause_end(self) -> timezone.datetime | None:
        if self.paused_until is None:
            return None
        return schedule.last_moment_before(self.paused_until, self.time_zone)

    def schedule_after_claim(self, claimed_period: str, now: timezone.datetime) -> None:
        """Due next at the first send time after `now` in another period than the one
        just claimed, and after any pause."""
        after = max(now, self._pause_end() or now)
        self.next_digest_at = schedule.next_send_time(
            after, self.frequency, self.time_zone, self.send_hour, taken={claimed_period}
        )

    def reschedule(self, now: timezone.datetime, taken: Collection[str]) -> None:
        """Due next by the current schedule, after a change of it, a pause or a resume:
        the current period's digest when `taken` (the periods that have one) lacks it."""
        self.next_digest_at = schedule.send_time_after_change(
            now,
            self.frequency,
            self.time_zone,
            self.send_hour,
            taken,
            not_before=self._pause_end(),
        )


class InterestLine(models.Model):
    """One line of an interest list (a subscriber's or a group's), validated as the
    engine reads it."""

    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        # The engine's own message, so the admin says exactly what the signup form says.
        try:
            self.text = validate_interest(self.text)
        except InterestSyntaxError as error:
            raise ValidationError({"text": str(error)}) from None


class Interest(InterestLine):
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="interests")


class ConsentRecord(models.Model):
    """What stays when a subscriber's data is deleted: proof of consent and its end.

    The address itself is gone; its SHA-256 lets staff answer "did this address
    ever subscribe, and when?" for an address someone gives them.
    """

    email_sha256 = models.CharField(max_length=64, db_index=True)
    signed_up_at = models.DateTimeField()
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    consent_note = models.TextField(
        blank=True, help_text="Staff who added or activated the address, and how it agreed."
    )
    deleted_at = models.DateTimeField(default=timezone.now)
    deleted_by = models.CharField(max_length=16, help_text='"subscriber" or "staff".')

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"{self.email_sha256[:12]}… deleted {self.deleted_at:%Y-%m-%d} by {self.deleted_by}"
