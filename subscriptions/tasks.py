"""Account email tasks: ids in, one call each; retried when the provider fails."""

from celery import shared_task

from subscriptions import emails
from subscriptions.models import Subscriber

_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 900,
    "max_retries": 5,
}


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
