"""The groups of an address on its own manage page: each with its leave link, and, to
the owner, the group's manage link (the way back to a group whose link expired). A tag,
so the subscriber's manage view needs nothing of groups."""

from django import template

from groups import links
from groups.models import Group, Membership
from subscriptions.models import Subscriber

register = template.Library()


@register.inclusion_tag("groups/_on_manage_page.html")
def groups_of(subscriber: Subscriber) -> dict:
    memberships = (
        Membership.objects.filter(subscriber=subscriber, status=Membership.Status.ACTIVE)
        .select_related("group")
        .exclude(group__status=Group.Status.CLOSED)
        .order_by("group__name")
    )
    owned = Group.objects.filter(owner_email__iexact=subscriber.email).exclude(
        status=Group.Status.CLOSED
    )
    rows = {m.group_id: {"group": m.group, "leave_url": links.leave_url(m.pk)} for m in memberships}
    for group in owned:
        rows.setdefault(group.pk, {"group": group})["manage_url"] = links.manage_url(group.pk)
    return {"groups": sorted(rows.values(), key=lambda row: row["group"].name.lower())}
