"""Account email tasks: ids in, one call each; retried when the provider fails."""

from celery import shared_task

from subscriptions import emails, ratelimit
from subscriptions.models import Subscriber

_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 900,
    "max_retries": 5,
}


@shared_task(bind=True, **_RETRY)
def send_signup_email(self, subscriber_id: int) -> None:
    """The one email a signup may bring, decided here and not in the web request, which
    so does the same work for every address (services.sign_up): a confirmation link for
    a new, pending or unsubscribed address, "you already subscribe" for an active one,
    nothing for a suppressed one, nothing past the address's hourly limit."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status == Subscriber.Status.SUPPRESSED:
        return
    # A retry is the same email, already counted.
    if self.request.retries == 0 and not ratelimit.allow_account_email(subscriber.email):
        return
    if subscriber.status == Subscriber.Status.ACTIVE:
        emails.send_already_subscribed(subscriber)
    else:
        emails.send_confirmation(subscriber)


# The two tasks signups enqueued before send_signup_email; kept so that tasks queued
# by the previous release still run. Their limit was counted when they were queued.
@shared_task(**_RETRY)
def send_confirmation_email(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status in (
        Subscriber.Status.PENDING,
        Subscriber.Status.UNSUBSCRIBED,
    ):
        emails.send_confirmation(subscriber)


@shared_task(**_RETRY)
def send_already_subscribed_email(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status == Subscriber.Status.ACTIVE:
        emails.send_already_subscribed(subscriber)


@shared_task(**_RETRY)
def send_manage_link_email(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status != Subscriber.Status.SUPPRESSED:
        emails.send_manage_link(subscriber)
