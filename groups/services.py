"""Starting a group, inviting, joining and leaving: the rules, as plain functions.

As in subscriptions/services.py, email is never sent from here: tasks are enqueued to
run after the transaction commits, and decide there what to send, so an owner's page
reads the same whatever Paperboy knows of an address.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from groups import tasks
from groups.models import Group, GroupInterest, Membership, new_invite_key
from subscriptions import addresses, ratelimit
from subscriptions.models import Subscriber
from subscriptions.tokens import BadToken

# Addresses one invitation form may carry; the day's limit is GROUP_INVITATIONS_PER_DAY.
MAX_INVITES_AT_ONCE = 20


@dataclass(frozen=True)
class GroupSettings:
    """What the owner chooses: the group's name, interests and schedule."""

    name: str
    interests: Sequence[str]
    frequency: str
    send_hour: int
    time_zone: str


def settings_of(group: Group) -> GroupSettings:
    return GroupSettings(
        name=group.name,
        interests=[interest.text for interest in group.interests.all()],
        frequency=group.frequency,
        send_hour=group.send_hour,
        time_zone=group.time_zone,
    )


def _set_interests(group: Group, interests: Sequence[str], now: datetime) -> None:
    wanted = list(dict.fromkeys(interests))
    existing = set(group.interests.values_list("text", flat=True))
    group.interests.exclude(text__in=wanted).delete()
    GroupInterest.objects.bulk_create(
        GroupInterest(group=group, text=text, created_at=now)
        for text in wanted
        if text not in existing
    )


def create_group(owner_email: str, chosen: GroupSettings, now: datetime | None = None) -> Group:
    """A new group, waiting for its owner to start it from the manage link mailed to
    them; the caller (a stranger may type anyone's address) learns nothing more."""
    now = now or timezone.now()
    with transaction.atomic():
        group = Group.objects.create(
            name=chosen.name,
            owner_email=addresses.normalize_email(owner_email),
            frequency=chosen.frequency,
            send_hour=chosen.send_hour,
            time_zone=chosen.time_zone,
            created_at=now,
        )
        _set_interests(group, chosen.interests, now)
        tasks.send_owner_link_email.delay_on_commit(group.pk)
    return group


def mail_owner_link(group: Group) -> None:
    """Mail the owner their group's manage link again (staff, from the admin)."""
    tasks.send_owner_link_email.delay_on_commit(group.pk)


def _taken_periods(group: Group, now: datetime) -> set[str]:
    # A week back covers the current period of either frequency.
    recent = group.deliveries.filter(claimed_at__gte=now - timedelta(days=8))
    return set(recent.values_list("period", flat=True))


def _member_of_address(email: str, now: datetime) -> Subscriber:
    """The Subscriber row of `email`, made (pending: no digests of its own) when there is
    none. One row per address is where its suppression, bounces and limits live."""
    key = addresses.address_key(email)
    found = Subscriber.objects.filter(email__iexact=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():  # a signup of the same address may insert it first
            return Subscriber.objects.create(
                email=email, status=Subscriber.Status.PENDING, signed_up_at=now
            )
    except IntegrityError:
        return Subscriber.objects.get(email__iexact=key)


def _activate(membership: Membership, now: datetime, ip: str | None, user_agent: str) -> None:
    membership.subscriber = _member_of_address(membership.email, now)
    membership.status = Membership.Status.ACTIVE
    membership.confirmed_at = now
    membership.confirm_ip = ip
    membership.confirm_user_agent = user_agent[:300]
    membership.left_at = None
    membership.save()


def start(
    group: Group, ip: str | None = None, user_agent: str = "", now: datetime | None = None
) -> None:
    """The owner starts the group from its manage link (a POST): their address is
    confirmed by that link, so they are its first member. Starting twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        if group.status != Group.Status.PENDING:
            return
        group.status = Group.Status.ACTIVE
        group.started_at = now
        group.reschedule(now, taken=())
        group.save()
        membership, _ = Membership.objects.get_or_create(
            group=group, email__iexact=group.owner_email, defaults={"email": group.owner_email}
        )
        _activate(membership, now, ip, user_agent)


def update_group(group: Group, chosen: GroupSettings, now: datetime | None = None) -> None:
    """The owner's new name, interests and schedule; the next digest follows them."""
    now = now or timezone.now()
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        group.name = chosen.name
        group.frequency = chosen.frequency
        group.send_hour = chosen.send_hour
        group.time_zone = chosen.time_zone
        if group.status == Group.Status.ACTIVE:
            group.reschedule(now, _taken_periods(group, now))
        group.save()
        _set_interests(group, chosen.interests, now)


def follow_new_schedule(group: Group, now: datetime | None = None) -> None:
    """After staff change a group's schedule or status in the admin: the next digest
    follows it (none while the group is not active). The caller saves."""
    now = now or timezone.now()
    if group.status != Group.Status.ACTIVE:
        group.next_digest_at = None
        return
    if group.started_at is None:
        group.started_at = now
    group.reschedule(now, _taken_periods(group, now) if group.pk else set())


@dataclass
class Invited:
    """What an invitation form did, as the owner's page says it."""

    invited: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # already in the group: not mailed
    over_limit: list[str] = field(default_factory=list)  # the group's day is used up


def invitation_limit_key(group: Group) -> str:
    return f"group-invitations:{group.pk}"


def invite(group: Group, emails: Sequence[str], now: datetime | None = None) -> Invited:
    """Invite each address (normalized already) to the group; each gets one email with
    its own link, sent by a task that applies the address's own limit and sends
    nothing to a suppressed address. An address already invited is mailed again (a
    lost email), with the same link; one that left or was withdrawn gets a new link.

    The answer depends only on the group's own members and limit, never on whether
    an address subscribes, bounced or was mailed lately.
    """
    now = now or timezone.now()
    done = Invited()
    if group.status != Group.Status.ACTIVE:
        return done
    with transaction.atomic():
        for email in dict.fromkeys(emails):
            membership = Membership.objects.filter(group=group, email__iexact=email).first()
            if membership is not None and membership.status == Membership.Status.ACTIVE:
                done.members.append(email)
                continue
            if not ratelimit.allow(
                invitation_limit_key(group), settings.GROUP_INVITATIONS_PER_DAY, 86400
            ):
                done.over_limit.append(email)
                continue
            if membership is None:
                membership = Membership.objects.create(group=group, email=email, invited_at=now)
            elif membership.status != Membership.Status.INVITED:
                membership.status = Membership.Status.INVITED
                membership.invite_key = new_invite_key()
                membership.invited_at = now
                membership.save(update_fields=["status", "invite_key", "invited_at"])
            tasks.send_invitation_email.delay_on_commit(membership.pk)
            done.invited.append(email)
    return done


def withdraw(group: Group, membership_id: int) -> None:
    """The owner takes back an invitation not yet confirmed; its link stops working."""
    Membership.objects.filter(
        pk=membership_id, group=group, status=Membership.Status.INVITED
    ).update(status=Membership.Status.WITHDRAWN, invite_key=new_invite_key())


@dataclass(frozen=True)
class Invitation:
    """What the invitation page shows before its button."""

    membership: Membership
    group: Group
    interests: list[str]

    @property
    def already_member(self) -> bool:
        return self.membership.status == Membership.Status.ACTIVE


def invitation_of(membership_id: int, key: str) -> Invitation:
    """The invitation a link names, or BadToken when it no longer stands (withdrawn,
    left since, or the group closed)."""
    membership = Membership.objects.select_related("group").filter(pk=membership_id).first()
    if (
        membership is None
        or membership.invite_key != key
        or membership.group.status != Group.Status.ACTIVE
        or membership.status not in (Membership.Status.INVITED, Membership.Status.ACTIVE)
    ):
        raise BadToken("This invitation is no longer valid.")
    group = membership.group
    return Invitation(membership, group, [i.text for i in group.interests.all()])


def join(
    membership_id: int,
    key: str,
    ip: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> Membership:
    """The invited address confirms (a POST from its invitation's link) and becomes a
    member; its first digest of the group comes at the group's next send time.
    Confirming twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("group")
            .filter(pk=membership_id)
            .first()
        )
        if membership is None or membership.invite_key != key:
            raise BadToken("This invitation is no longer valid.")
        if membership.status == Membership.Status.ACTIVE:
            return membership
        if (
            membership.status != Membership.Status.INVITED
            or membership.group.status != Group.Status.ACTIVE
        ):
            raise BadToken("This invitation is no longer valid.")
        _activate(membership, now, ip, user_agent)
    return membership


def leave(membership_id: int, now: datetime | None = None) -> Membership | None:
    """The member leaves the group: no more of its digests, a digest claimed but not yet
    sent included. Their invitation link stops working. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(pk=membership_id).first()
        if membership is None:
            return None
        if membership.status == Membership.Status.ACTIVE:
            membership.status = Membership.Status.LEFT
            membership.left_at = now
            membership.invite_key = new_invite_key()
            membership.save(update_fields=["status", "left_at", "invite_key"])
    return membership


def leave_by_delivery(group_id: int, subscriber_id: int) -> None:
    """A provider's unsubscribe report for a group's digest: the member leaves that
    group (their own subscription, and other groups, stay as they are)."""
    membership = Membership.objects.filter(group_id=group_id, subscriber_id=subscriber_id).first()
    if membership is not None:
        leave(membership.pk)
