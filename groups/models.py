"""A group (a lab, a reading club): one interest list and one schedule, mailed to each of
its members, who joined by their own confirmation (groups/services.py)."""

import secrets
from collections.abc import Collection
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from digest import schedule
from digest.matching import like
from subscriptions.models import InterestLine, Subscriber, validate_time_zone


def new_invite_key() -> str:
    return secrets.token_urlsafe(12)


class Group(models.Model):
    class Frequency(models.TextChoices):
        # A subscriber's daily and weekly; a group is read by email (no feed-only).
        DAILY = schedule.DAILY
        WEEKLY = schedule.WEEKLY, "weekly (Mondays)"

    class Status(models.TextChoices):
        PENDING = "pending", "waiting for its owner to start it"
        ACTIVE = "active"
        CLOSED = "closed", "closed (no digests)"

    name = models.CharField(max_length=100)
    # The owner is an address, like everyone here: the group's manage link is mailed to
    # it, and whoever holds that link manages the group.
    owner_email = models.EmailField(max_length=254)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    send_hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="Local hour, 0-23."
    )
    next_digest_at = models.DateTimeField(null=True, blank=True, help_text="In UTC.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The dispatcher asks exactly this: active and due.
            models.Index(
                fields=["next_digest_at"],
                condition=models.Q(status="active"),
                name="group_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def schedule_after_claim(self, claimed_period: str, now: datetime) -> None:
        """Due next at the first send time after `now` in another period than the one
        just claimed (as a subscriber's digest)."""
        self.next_digest_at = schedule.next_send_time(
            now, self.frequency, self.time_zone, self.send_hour, taken={claimed_period}
        )

    def reschedule(self, now: datetime, taken: Collection[str]) -> None:
        """Due next by the current schedule, after a change of it: the current period's
        digest when `taken` lacks it."""
        self.next_digest_at = schedule.send_time_after_change(
            now, self.frequency, self.time_zone, self.send_hour, taken
        )


class GroupInterest(InterestLine):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="interests")

    def clean(self) -> None:
        super().clean()
        if like.is_like(self.text):
            # As the group's form says: a seed teaches one reader's own digests.
            raise ValidationError(
                {"text": "like: lines are for a reader's own digests, not a group's."}
            )


class Membership(models.Model):
    """An address invited to a group, and, once it confirmed, a member of it.

    An invitation is not a membership: only `active` rows get the group's digest, and a
    row becomes active only by a POST from the invitation's own link. Each invitation
    has a key of its own, so a link mailed before the address left (or before the
    owner withdrew it) cannot bring it back.
    """

    class Status(models.TextChoices):
        INVITED = "invited", "invited (not a member until they confirm)"
        ACTIVE = "active", "member"
        LEFT = "left"
        WITHDRAWN = "withdrawn", "invitation withdrawn"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    # The address as the owner typed it (normalized); the member, once confirmed, is the
    # Subscriber row of that address: one place for its suppression, bounces and limits.
    email = models.EmailField(max_length=254)
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,  # deleting one's data deletes one's memberships too
        null=True,
        blank=True,
        related_name="memberships",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    invite_key = models.CharField(max_length=32, default=new_invite_key, editable=False)
    invited_at = models.DateTimeField(default=timezone.now)
    # The member's consent: when and from where they confirmed, and when they left.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_ip = models.GenericIPAddressField(null=True, blank=True)
    confirm_user_agent = models.CharField(max_length=300, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "group", Lower("email"), name="membership_one_per_address_and_group"
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.email} in {self.group} ({self.get_status_display()})"
