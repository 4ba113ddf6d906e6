"""The account email of groups: the owner's manage link and an invitation.

Neither carries anything the owner typed (the group's name, its interests): whoever
starts a group can type anything, and an invitation goes to an inbox of their
choosing. The pages behind the links show them, to the owner of the address.
"""

from django.conf import settings

from groups import links
from groups.models import Group, Membership
from subscriptions.emails import build_message


def send_owner_link(group: Group) -> None:
    context = {
        "group": group,
        "manage_url": links.manage_url(group.pk),
        "max_age_days": settings.MANAGE_LINK_MAX_AGE_DAYS,
        "interest_count": group.interests.count(),
    }
    build_message(
        "emails/group_owner_link", context, group.owner_email, settings.DEFAULT_FROM_EMAIL
    ).send()


def send_invitation(membership: Membership) -> None:
    group = membership.group
    context = {
        "invite_url": links.invite_url(membership.pk, membership.invite_key),
        "max_age_days": settings.GROUP_INVITE_LINK_MAX_AGE_DAYS,
        "interest_count": group.interests.count(),
        "frequency": group.frequency,
    }
    build_message(
        "emails/group_invitation", context, membership.email, settings.DEFAULT_FROM_EMAIL
    ).send()
