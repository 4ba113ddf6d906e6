"""Store every address in its one normalized spelling (subscriptions.addresses), and
merge the subscribers that were spellings of one mailbox.

Before this, `grace@<U+FF45>xample.com`, `grace@exam<U+00AD>ple.com` and `grace@example.com`
were three subscribers, though all their mail reached one inbox. Now:

- An address that normalizes is rewritten to its normalized form.
- Several rows of one mailbox become one. The survivor is the row whose state says
  the least may be sent: suppressed, then unsubscribed, then active, then pending, so
  a suppression or an unsubscribe is never undone by a merge (an active spelling of an
  unsubscribed address must sign up again). Between rows of one state, the one already
  spelled normally wins, then the oldest. The survivor keeps its own interests,
  schedule, deliveries and consent fields, and the most soft bounces of the group.
- Each row merged away leaves a ConsentRecord (its signup, confirmation and end, the
  SHA-256 of the normalized address, deleted_by "merge"), as deleting a subscriber
  always does; then it is deleted with its interests and deliveries.
- An address that cannot be normalized (a bidi or other invisible character, an IP
  literal, a host without a domain) cannot be mailed as it reads: its row is kept as
  it is, suppressed, with the reason.

Not reversible: the spellings merged away are gone (their consent records stay).
The rules are imported, not copied: on a new database this finds no rows, and a later
change of the rules needs a migration of its own anyway.
"""

import hashlib
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import migrations
from django.utils import timezone

from subscriptions.addresses import normalize_email

# Who wins a merge: the higher, the less may be sent.
RESTRAINT = {"suppressed": 3, "unsubscribed": 2, "active": 1, "pending": 0}


def normalize_and_merge(apps, schema_editor):
    Subscriber = apps.get_model("subscriptions", "Subscriber")
    ConsentRecord = apps.get_model("subscriptions", "ConsentRecord")
    now = timezone.now()
    mailboxes = defaultdict(list)
    for subscriber in Subscriber.objects.order_by("pk"):
        try:
            normalized = normalize_email(subscriber.email)
        except ValidationError as error:
            if subscriber.status != "suppressed":
                subscriber.status = "suppressed"
                subscriber.suppressed_reason = f"address refused: {error.messages[0]}"[:200]
                subscriber.next_digest_at = None
                subscriber.save(update_fields=["status", "suppressed_reason", "next_digest_at"])
            continue
        mailboxes[normalized.lower()].append((subscriber, normalized))

    for key, rows in mailboxes.items():
        survivor, normalized = max(
            rows,
            key=lambda row: (RESTRAINT.get(row[0].status, 0), row[0].email == row[1], -row[0].pk),
        )
        merged = [subscriber for subscriber, _ in rows if subscriber.pk != survivor.pk]
        for subscriber in merged:
            ConsentRecord.objects.create(
                email_sha256=hashlib.sha256(key.encode()).hexdigest(),
                signed_up_at=subscriber.signed_up_at,
                signup_ip=subscriber.signup_ip,
                confirmed_at=subscriber.confirmed_at,
                unsubscribed_at=subscriber.unsubscribed_at or now,
                deleted_at=now,
                deleted_by="merge",
            )
        # Deleted before the survivor takes the spelling one of them may have had.
        Subscriber.objects.filter(pk__in=[subscriber.pk for subscriber in merged]).delete()
        soft_bounces = max(subscriber.soft_bounces for subscriber, _ in rows)
        if survivor.email != normalized or survivor.soft_bounces != soft_bounces:
            survivor.email = normalized
            survivor.soft_bounces = soft_bounces
            survivor.save(update_fields=["email", "soft_bounces"])


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0004_unconfirmed_signup"),
        # The deliveries of merged rows are deleted with them.
        ("digest", "0008_delivery_items_are_the_record"),
    ]

    operations = [migrations.RunPython(normalize_and_merge, migrations.RunPython.noop)]
