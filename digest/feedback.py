"""What the email provider says became of a digest after it was sent.

The provider calls Anymail's webhook (/anymail/<provider>/tracking/); Anymail turns
each call into a normalized AnymailTrackingEvent and sends its `tracking` signal,
which `on_tracking_event` receives (connected in digest/apps.py). A delivery learns
whether it arrived, and an address that bounces or complains gets no more mail:
mailbox providers judge a sender by its mail to dead addresses and its spam reports.
"""

import logging
from datetime import UTC

from anymail.signals import AnymailTrackingEvent, EventType
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from digest.models import Delivery
from subscriptions import services
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

# The feedback label of a temporary failure, whatever the provider calls it.
SOFT_BOUNCE = "soft bounce"

# Events that change something; opens, clicks, "queued" and the like are ignored.
HANDLED = {
    EventType.DELIVERED,
    EventType.BOUNCED,
    EventType.COMPLAINED,
    EventType.UNSUBSCRIBED,
    EventType.REJECTED,
    EventType.FAILED,
    SOFT_BOUNCE,
}

# A later "delivered" must not hide that the message bounced or was reported.
FINAL = {Delivery.Status.BOUNCED, Delivery.Status.COMPLAINED}


def soft_bounce_limit() -> int:
    return settings.SOFT_BOUNCE_LIMIT


def is_soft_bounce(event: AnymailTrackingEvent) -> bool:
    """True for a temporary failure: worth counting, not worth suppressing at once."""
    if event.event_type == EventType.DEFERRED:
        return True
    if event.event_type != EventType.BOUNCED or not isinstance(event.esp_event, dict):
        return False
    # Anymail calls these "bounced"; the raw payload says they are temporary.
    raw = event.esp_event
    postmark_soft = raw.get("Type") == "SoftBounce"
    event_data = raw.get("event-data")
    mailgun_soft = isinstance(event_data, dict) and event_data.get("severity") == "temporary"
    return postmark_soft or mailgun_soft


def kind_of(event: AnymailTrackingEvent) -> str | None:
    """Paperboy's name for an event, or None when the event changes nothing."""
    kind = SOFT_BOUNCE if is_soft_bounce(event) else event.event_type
    return kind if kind in HANDLED else None


def description_of(event: AnymailTrackingEvent) -> str:
    # Postmark leaves a complaint's description empty and says it in the details;
    # Mailgun's SMTP answers span lines. One short line either way.
    text = event.description or event.mta_response or event.reject_reason or ""
    return " ".join(str(text).split())[:300]


def feedback_line(event: AnymailTrackingEvent, kind: str) -> str:
    """ "2026-11-29T10:00Z bounced: <the provider's description>", in UTC."""
    when = event.timestamp or timezone.now()
    if timezone.is_naive(when):
        when = when.replace(tzinfo=UTC)
    line = f"{when.astimezone(UTC):%Y-%m-%dT%H:%MZ} {kind}"
    description = description_of(event)
    return f"{line}: {description}" if description else line


def kind_in_line(line: str) -> str:
    """The kind of event a feedback line records ("soft bounce" in "…Z soft bounce: …")."""
    return line.partition(" ")[2].partition(":")[0]


def find_delivery(event: AnymailTrackingEvent) -> Delivery | None:
    """The delivery an event is about, locked: by the provider's id, else by our metadata."""
    deliveries = Delivery.objects.select_for_update().select_related("subscriber")
    if event.message_id:
        delivery = deliveries.filter(esp_message_id=event.message_id).first()
        if delivery is not None:
            return delivery
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    try:
        delivery_id = int(metadata.get("delivery_id"))
    except (TypeError, ValueError):
        return None
    return deliveries.filter(pk=delivery_id).first()


def suppress(subscriber: Subscriber, reason: str) -> None:
    """Send this address nothing more; the first reason stays."""
    if subscriber.mark_suppressed(reason):
        subscriber.save(update_fields=Subscriber.SUPPRESSION_FIELDS)


def count_soft_bounce(subscriber: Subscriber, reason: str) -> None:
    subscriber.soft_bounces += 1
    subscriber.save(update_fields=["soft_bounces"])
    if subscriber.soft_bounces >= soft_bounce_limit():
        suppress(subscriber, f"{subscriber.soft_bounces} soft bounces in a row: {reason}")


def record_event(event: AnymailTrackingEvent, esp_name: str = "") -> Delivery | None:
    """Apply one provider event to its delivery and subscriber; the delivery, or None."""
    kind = kind_of(event)
    if kind is None:
        return None
    with transaction.atomic():
        delivery = find_delivery(event)
        if delivery is None:
            logger.info("Ignored %s event for unknown message %r", kind, event.message_id)
            return None
        subscriber = delivery.subscriber
        # The metadata id is a small number: another install sharing the provider
        # account would name our deliveries with its own. The address tells them apart.
        if event.recipient and event.recipient.lower() != subscriber.email.lower():
            logger.warning("Ignored %s event for delivery %s: other recipient", kind, delivery.pk)
            return None

        line = feedback_line(event, kind)
        earlier = delivery.feedback.splitlines()
        if line in earlier:
            return delivery  # the provider retried its webhook: already applied
        first_soft_bounce = not any(kind_in_line(entry) == SOFT_BOUNCE for entry in earlier)
        delivery.feedback = "\n".join([*earlier, line])
        reason = f"{kind} ({esp_name or 'provider'})"
        if description := description_of(event):
            reason = f"{reason}: {description}"

        if kind == EventType.DELIVERED:
            if delivery.status not in FINAL:
                delivery.status = Delivery.Status.DELIVERED
            if subscriber.soft_bounces:  # the count is of soft bounces in a row
                subscriber.soft_bounces = 0
                subscriber.save(update_fields=["soft_bounces"])
        elif kind == EventType.BOUNCED:
            if delivery.status != Delivery.Status.COMPLAINED:
                delivery.status = Delivery.Status.BOUNCED
            suppress(subscriber, reason)
        elif kind == EventType.COMPLAINED:
            delivery.status = Delivery.Status.COMPLAINED
            suppress(subscriber, reason)
        elif kind == SOFT_BOUNCE:
            # Providers report each retry of one message: one digest counts once.
            if first_soft_bounce:
                count_soft_bounce(subscriber, reason)
        elif kind == EventType.UNSUBSCRIBED:
            services.unsubscribe(subscriber.pk)
        elif delivery.status not in {*FINAL, Delivery.Status.DELIVERED}:  # rejected, failed
            delivery.status = Delivery.Status.FAILED
        delivery.save(update_fields=["status", "feedback"])
    return delivery


def on_tracking_event(
    sender: object, event: AnymailTrackingEvent, esp_name: str = "", **kwargs: object
) -> None:
    """Receiver of anymail.signals.tracking; never raises.

    An exception would answer the provider with a 500, so it would retry the same
    webhook again and again, and the other events of a batch would go unhandled.
    """
    try:
        record_event(event, esp_name)
    except Exception:
        logger.exception("Could not record %s event %r", esp_name, getattr(event, "event_id", None))
