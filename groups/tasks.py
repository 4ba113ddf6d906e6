"""Celery tasks of groups: thin wrappers over groups.sending and groups.services."""

from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from groups import emails, sending
from groups.models import Group, Membership
from subscriptions import ratelimit
from subscriptions.models import Subscriber

_DATABASE_ERRORS = (OperationalError, InterfaceError)
_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 900,
    "max_retries": 5,
}


@shared_task(autoretry_for=_DATABASE_ERRORS, retry_backoff=5, max_retries=3)
def send_group_digests(group_ids: list[int], now: str | None = None) -> str:
    """Send the due digests of these groups to their members (digest.tasks.dispatch_digests
    enqueues them with the dispatch's own window end)."""
    moment = datetime.fromisoformat(now) if now else None
    return str(sending.send_groups(group_ids, moment))


def _suppressed(address: str) -> bool:
    return Subscriber.objects.filter(
        email__iexact=address, status=Subscriber.Status.SUPPRESSED
    ).exists()


@shared_task(bind=True, **_RETRY)
def send_invitation_email(self, membership_id: int) -> None:
    """An invitation, decided here and not in the owner's request, which so reads the
    same for every address: nothing to a suppressed address, nothing past the
    address's hourly limit of account email, nothing once the invitation is gone."""
    membership = (
        Membership.objects.select_related("group")
        .filter(pk=membership_id, status=Membership.Status.INVITED)
        .first()
    )
    if membership is None or membership.group.status != Group.Status.ACTIVE:
        return
    if _suppressed(membership.email):
        return
    if self.request.retries == 0 and not ratelimit.allow_account_email(membership.email):
        return
    emails.send_invitation(membership)


@shared_task(bind=True, **_RETRY)
def send_owner_link_email(self, group_id: int) -> None:
    """The group's manage link, to its owner, within the address's hourly limit."""
    group = Group.objects.filter(pk=group_id).exclude(status=Group.Status.CLOSED).first()
    if group is None or _suppressed(group.owner_email):
        return
    if self.request.retries == 0 and not ratelimit.allow_account_email(group.owner_email):
        return
    emails.send_owner_link(group)
