"""What the one sender (digest/sending.py) needs to know about a batch's group digests:
which are still wanted, their group's interests, and their message.

A group's digest to a member is a Delivery like any other, with `group` set: claimed
once per member and period (groups/sending.py), then rendered, journaled, retried and
taken back by the same code as a subscriber's own digest. Only the interests, the
last check before sending and the links of the email differ, and they are here.
"""

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from digest import compose
from digest.models import Delivery
from groups import links
from groups.models import Group, GroupInterest, Membership
from subscriptions import addresses
from subscriptions.emails import build_message
from subscriptions.models import Subscriber


class GroupDigests:
    """The groups, interests and memberships of the group digests in `deliveries`, read
    in three queries whatever their number (none when the batch has no group digest)."""

    def __init__(self, deliveries: Iterable[Delivery]) -> None:
        grouped = [d for d in deliveries if d.group_id is not None]
        self.groups: dict[int, Group] = {}
        self.interests: dict[int, list[str]] = {}
        self.memberships: dict[tuple[int, int], Membership] = {}
        if not grouped:
            return
        group_ids = {d.group_id for d in grouped}
        self.groups = Group.objects.in_bulk(group_ids)
        for group_id, text in GroupInterest.objects.filter(group_id__in=group_ids).values_list(
            "group_id", "text"
        ):
            self.interests.setdefault(group_id, []).append(text)
        memberships = Membership.objects.filter(
            group_id__in=group_ids, subscriber_id__in={d.subscriber_id for d in grouped}
        )
        self.memberships = {(m.group_id, m.subscriber_id): m for m in memberships}

    def interests_of(self, delivery: Delivery) -> list[str]:
        return self.interests.get(delivery.group_id, [])

    def membership_of(self, delivery: Delivery) -> Membership | None:
        return self.memberships.get((delivery.group_id, delivery.subscriber_id))

    def still_wanted(self, delivery: Delivery, subscriber: Subscriber) -> bool:
        """The member is still in the group, the group still active, the address not
        suppressed: a member who left since the claim gets nothing."""
        group = self.groups.get(delivery.group_id)
        membership = self.membership_of(delivery)
        return (
            group is not None
            and group.status == Group.Status.ACTIVE
            and membership is not None
            and membership.status == Membership.Status.ACTIVE
            and subscriber.status != Subscriber.Status.SUPPRESSED
        )

    def build_message(
        self,
        subscriber: Subscriber,
        items: list[compose.DigestItem],
        delivery: Delivery,
        total: int | None = None,
        interests: Sequence[str] | None = None,
    ) -> EmailMultiAlternatives:
        """The group's digest to one member, as compose.build_digest_message builds a
        subscriber's own, with the group's links: leave (also the one-click
        List-Unsubscribe), and, to its owner, the group's manage page."""
        group = self.groups[delivery.group_id]
        membership = self.membership_of(delivery)
        interests = self.interests_of(delivery) if interests is None else interests
        return group_message(subscriber, group, membership, items, delivery, total, interests)


def group_message(
    subscriber: Subscriber,
    group: Group,
    membership: Membership,
    items: list[compose.DigestItem],
    delivery: Delivery,
    total: int | None,
    interests: Sequence[str],
) -> EmailMultiAlternatives:
    shown = items[: settings.DIGEST_MAX_PAPERS]
    total = len(items) if total is None else total
    silent = compose.silent_interests(interests, items) if items and total <= len(items) else []
    # The account links are the group's, not the member's own subscription's.
    context = compose.digest_context(
        subscriber,
        shown,
        total - len(shown),
        delivery.pk,
        delivery.period,
        length=subscriber.digest_length,
        silent=silent,
        account_links=False,
        feedback_links=False,
        signed_at=delivery.claimed_at,
    )
    leave_url = links.leave_url(membership.pk)
    owner = addresses.same_address(group.owner_email, subscriber.email)
    context.update(
        source_note=delivery.source_note,
        group=group,
        leave_url=leave_url,
        group_manage_url=links.manage_url(group.pk) if owner else "",
    )
    headers = compose.digest_headers(leave_url, delivery)
    site_host = urlsplit(settings.SITE_URL).hostname or "localhost"
    # A list of its own per group, so a member's filters tell the groups apart; only our
    # own values in a header, never the name the owner typed.
    headers["List-Id"] = f"Paperboy group digest <group-{group.pk}.digest.{site_host}>"
    message = build_message(
        "emails/group_digest", context, subscriber.email, settings.DIGEST_FROM_EMAIL, headers
    )
    message.tags = ["digest", "group-digest"]
    message.metadata = {"message_key": str(delivery.message_key)}
    return message
