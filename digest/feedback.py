"""What the email provider says became of a digest after it was sent.

The provider posts to Anymail's webhook (/anymail/<provider>/tracking/); Anymail turns
each post into normalized AnymailTrackingEvents and sends its `tracking` signal, which
`on_tracking_event` receives (connected in digest/apps.py). A delivery learns whether
it arrived, and an address that bounces or complains gets no more mail: mailbox
providers judge a sender by its mail to dead addresses and its spam reports.

Because a report can suppress an address, nobody else may make one up:

- the webhook URLs answer only when WEBHOOK_SECRET is set (the provider sends it as
  HTTP basic auth) and DELIVERY_WEBHOOKS is on; otherwise, and for a provider whose
  own settings are missing, they answer 404 (`webhook_urlpatterns`);
- an event names its delivery by the provider's message id or by the message key in
  the digest's metadata, both unguessable, never by a primary key (`find_delivery`);
- an event must name the address the digest went to (`record_event`).
"""

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC
from functools import wraps

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType
from anymail.webhooks.base import AnymailCoreWebhookView
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from digest.models import Delivery
from groups import services as group_services
from subscriptions import services
from subscriptions.addresses import same_address
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
    """The delivery an event is about, locked, or None.

    By the provider's own message id (kept in esp_message_id when it took the message),
    else by the `message_key` that each digest carries in its metadata. Both are
    unguessable; a delivery's primary key is a small number anyone can count through,
    so it names nothing. Digests sent before the key went into the metadata carry
    {"delivery_id": "<pk>"} instead: their late events are matched by the provider's
    message id only, and are ignored when that is missing.
    """
    deliveries = Delivery.objects.select_for_update().select_related("subscriber")
    if event.message_id:
        delivery = deliveries.filter(esp_message_id=event.message_id).first()
        if delivery is not None:
            return delivery
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    try:
        message_key = uuid.UUID(str(metadata.get("message_key")))
    except ValueError:
        return None
    return deliveries.filter(message_key=message_key).first()


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
    if not event.recipient:
        # Real reports of the events we handle always name the address; one that does
        # not cannot be checked against the delivery, so it changes nothing.
        logger.warning("Ignored %s event %r without a recipient", kind, event.message_id)
        return None
    with transaction.atomic():
        delivery = find_delivery(event)
        if delivery is None:
            logger.info("Ignored %s event for unknown message %r", kind, event.message_id)
            return None
        subscriber = delivery.subscriber
        # The event must be about the address the digest went to: a report naming
        # someone else (a forgery, or another install sharing the provider account)
        # must not suppress this subscriber.
        if not same_address(event.recipient, subscriber.email):
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
            if delivery.group_id is not None:  # a group's digest: leave that group only
                group_services.leave_by_delivery(delivery.group_id, subscriber.pk)
            else:
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


# The webhook URLs --------------------------------------------------------------------

# What a provider's parser raises on a post it cannot read: bad JSON or text encoding
# (ValueError), a missing field (KeyError), a list where an object belongs (TypeError,
# AttributeError). Our receiver never raises, so nothing else in the view raises these.
MALFORMED_POST = (ValueError, LookupError, TypeError, AttributeError)


def webhooks_enabled() -> bool:
    """True when the delivery webhooks may answer: on, and protected by WEBHOOK_SECRET."""
    secret = getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET")
    return bool(settings.DELIVERY_WEBHOOKS and secret)


def guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anymail's webhook `view`, answering 404 unless the webhooks are enabled or when the
    provider's settings are missing, and 400 to a post it cannot parse (never a 500,
    which the provider would retry for days)."""

    @wraps(view)  # keeps csrf_exempt, login_not_required and view_class
    def webhook(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not webhooks_enabled():
            raise Http404("Delivery webhooks are off.")
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError as error:
            logger.warning(
                "Webhook %s for a provider that is not configured: %s", request.path, error
            )
            raise Http404("This provider is not configured.") from None
        except AnymailWebhookValidationFailure:
            raise  # wrong secret or signature: Django answers 400 and logs it as suspicious
        except MALFORMED_POST:
            logger.warning("Malformed webhook post to %s", request.path, exc_info=True)
            return HttpResponseBadRequest("Malformed webhook post.")

    webhook.paperboy_guarded = True
    return webhook


def webhook_urlpatterns() -> tuple[list[URLPattern], str]:
    """Anymail's webhook routes (namespace "anymail"), each behind `guarded`.

    Its inbound routes are left out: Paperboy receives no mail.
    """
    from anymail import urls as anymail_urls

    patterns = [
        URLPattern(route.pattern, guarded(route.callback), route.default_args, route.name)
        for route in anymail_urls.urlpatterns
        if not (route.name or "").endswith("_inbound_webhook")
    ]
    return patterns, anymail_urls.app_name


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def unguarded_webhook_routes() -> list[str]:
    """The URLs of anymail webhook views mounted without `guarded`, tracking ones first."""
    found = []
    for route, pattern in _routes(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        is_webhook = isinstance(view_class, type) and issubclass(view_class, AnymailCoreWebhookView)
        if is_webhook and not getattr(pattern.callback, "paperboy_guarded", False):
            found.append(route)
    return sorted(found, key=lambda route: "tracking" not in route)
