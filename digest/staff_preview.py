"""A test digest: a subscriber's preview mailed to a staff member, to see it as it arrives.

It leaves no trace on the subscriber: no Delivery, no change of schedule, no window
moved, and no link in it acts on their account (no manage or unsubscribe link, no
List-Unsubscribe header a mail program could press), so whoever gets it cannot
unsubscribe the subscriber by mistake.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from digest import compose, health, schedule
from digest.sending import Preview
from subscriptions.emails import build_message, header_text
from subscriptions.models import Subscriber


def build_test_digest(subscriber: Subscriber, preview: Preview, to: str) -> EmailMultiAlternatives:
    """The digest `subscriber` would get for `preview`, addressed to `to`: as long as
    they chose, naming the interests that found nothing, as theirs does."""
    shown = preview.shown
    period = schedule.period_of(preview.window_end, subscriber.frequency, subscriber.time_zone)
    # `items` holds every match: the silent interests are known (build_digest_message).
    silent = compose.silent_interests(preview.interests, preview.items) if preview.items else []
    context = compose.digest_context(
        subscriber,
        shown,
        len(preview.items) - len(shown),
        0,
        period,
        length=subscriber.digest_length,
        silent=silent,
        account_links=False,
    )
    # There is no web copy of a digest that was never sent.
    context["web_url"] = ""
    # What theirs would say of its sources if it went out now.
    stale = health.stale_sources(preview.window_end)
    context["source_note"] = health.digest_note(
        subscriber.categories, subscriber.time_zone, stale, preview.window_end
    )
    message = build_message("emails/digest", context, to, settings.DIGEST_FROM_EMAIL)
    message.subject = header_text(f"[Test digest of {subscriber.email}] {message.subject}")
    # Not "digest": a provider's reports on digests stay about real ones.
    message.tags = ["test-digest"]
    return message


def send_test_digest(subscriber: Subscriber, preview: Preview, to: str) -> None:
    """Mail the test digest now, from the staff member's request (one message)."""
    build_test_digest(subscriber, preview, to).send()
