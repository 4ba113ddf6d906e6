"""Which groups are due, and claiming each member's digest of a group exactly once.

The claim is the subscriber's (digest/sending.py `claim_many`) with the group in its
place: in one transaction, lock the due groups (in id order), create one Delivery per
active member and period not yet claimed (unique on subscriber, group and period),
and move the group's next_digest_at on. A retried, duplicated or concurrent task
finds the rows, or the group no longer due, and claims nothing. Sending is then the
one sender's: `sending.deliver_many`, with the journal, retries and reconciler of
every digest.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from digest import health, journal, schedule, sending, window
from digest.models import Delivery
from groups.models import Group, Membership
from subscriptions.models import Subscriber


def due_group_ids(now: datetime) -> list[int]:
    """Active groups whose next digest time has passed (one indexed query)."""
    return list(
        Group.objects.filter(status=Group.Status.ACTIVE, next_digest_at__lte=now)
        .order_by("next_digest_at")
        .values_list("pk", flat=True)
    )


def _last_window_ends(group_ids: list[int]) -> dict[tuple[int, int], datetime]:
    """Where each member's last delivered digest of each group ended, in one query."""
    rows = (
        Delivery.objects.filter(group_id__in=group_ids, status__in=sending.DONE)
        .values("group_id", "subscriber_id")
        .annotate(end=Max("window_end"))
    )
    return {(row["group_id"], row["subscriber_id"]): row["end"] for row in rows}


def claim_groups(group_ids: list[int], now: datetime) -> sending.Claim:
    """Claim the due period of each due group, for each of its members; skip the rest.

    A member's first digest of a group starts DIGEST_FIRST_LOOKBACK_DAYS back, as a new
    subscriber's; later ones where their last one ended. An older digest of the same
    member and group still waiting to be (re)tried is superseded, as in claim_many.
    A constant number of queries, whatever the number of groups and members.
    """
    token = journal.new_token()
    with transaction.atomic():
        due = list(
            Group.objects.select_for_update()
            .filter(pk__in=group_ids, status=Group.Status.ACTIVE, next_digest_at__lte=now)
            .order_by("pk")
        )
        if not due:
            return sending.Claim(token, [])
        periods = {
            g.pk: schedule.period_of(g.next_digest_at, g.frequency, g.time_zone) for g in due
        }
        members = list(
            Membership.objects.filter(
                group__in=due, status=Membership.Status.ACTIVE, subscriber__isnull=False
            )
            .exclude(subscriber__status=Subscriber.Status.SUPPRESSED)
            .order_by("pk")
            .values_list("group_id", "subscriber_id")
        )
        waiting = [Delivery.Status.CLAIMED, Delivery.Status.RETRY]
        existing = list(
            Delivery.objects.filter(group__in=due)
            .filter(Q(period__in=set(periods.values())) | Q(status__in=waiting))
            .values_list("pk", "group_id", "subscriber_id", "period", "status")
        )
        taken = {(g, s) for _, g, s, period, _ in existing if period == periods[g]}
        older = [
            pk for pk, g, s, _, status in existing if (g, s) not in taken and status in waiting
        ]
        if older:
            Delivery.objects.filter(pk__in=older, status__in=waiting).update(
                status=Delivery.Status.FAILED,
                error=sending.SUPERSEDED,
                lease_token=None,
                lease_until=None,
            )
        starts = _last_window_ends([g.pk for g in due])
        # A group follows no categories: it depends on every source, as a subscriber
        # without categories; its note is its own time zone's.
        stale = health.stale_sources(now) if members else []
        notes = {g.pk: health.digest_note((), g.time_zone, stale, now) for g in due}
        first_start = sending._first_window_start(now)
        lease_until = timezone.now() + journal.lease()
        claimed = Delivery.objects.bulk_create(
            Delivery(
                subscriber_id=subscriber_id,
                group_id=group_id,
                period=periods[group_id],
                window_start=starts.get((group_id, subscriber_id)) or first_start,
                window_end=now,
                claimed_at=now,
                lease_token=token,
                lease_until=lease_until,
                source_note=notes[group_id],
            )
            for group_id, subscriber_id in members
            if (group_id, subscriber_id) not in taken
        )
        for group in due:
            group.schedule_after_claim(periods[group.pk], now)
            Group.objects.filter(pk=group.pk).update(next_digest_at=group.next_digest_at)
    return sending.Claim(token, claimed)


def send_groups(group_ids: list[int], now: datetime | None = None) -> sending.Outcome:
    """Claim and send the due digests of these groups. `now` is the dispatch's window end."""
    held = claim_groups(group_ids, now or window.window_end())
    return sending.deliver_many(held.deliveries, held.token)
