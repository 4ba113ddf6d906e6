"""Promise: a provider that fails twice and then accepts gives one digest, sent on the
third attempt, and an address that keeps failing does not hold up the others.

The fault is injected at the network edge, the email backend's send_messages, which
raises ConnectionError as a provider that drops the connection does. Tasks run eagerly;
a failed attempt waits on its row, and `time_passes` lets that wait run out and runs
beat's reconciler.
"""

from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from digest import tasks
from digest.models import Delivery

pytestmark = pytest.mark.django_db


def _provider_failing(times: int, only: str | None = None):
    """send_messages that raises ConnectionError `times` times (for `only`, if named)."""
    real = EmailBackend.send_messages
    calls: list[str] = []

    def send_messages(backend, messages):
        for message in messages:
            calls.append(message.to[0])
            failures = [to for to in calls if only is None or to == only]
            if (only is None or message.to[0] == only) and len(failures) <= times:
                raise ConnectionError("connection reset by the provider")
        return real(backend, messages)

    return mock.patch.object(EmailBackend, "send_messages", send_messages), calls


def test_a_provider_that_fails_twice_then_accepts_sends_one_digest(
    make_subscriber, ingested_papers, time_passes
):
    subscriber = make_subscriber()
    patch, calls = _provider_failing(2)

    with patch:
        assert tasks.send_digests([subscriber.pk]) == "retrying 1"
        time_passes()
        time_passes()
        time_passes()  # nothing left: no fourth attempt

    assert calls == [subscriber.email] * 3
    assert [message.to for message in mail.outbox] == [[subscriber.email]]
    delivery = Delivery.objects.get(subscriber=subscriber)
    assert (delivery.status, delivery.attempts, delivery.error) == (Delivery.Status.SENT, 3, "")
    assert delivery.esp_message_id == mail.outbox[0].extra_headers["Message-ID"]


def test_one_flaky_address_is_retried_alone_and_the_rest_go_out_once(
    make_subscriber, ingested_papers, time_passes
):
    readers = [make_subscriber(email=f"reader{i}@example.com") for i in range(3)]
    flaky = readers[1].email
    patch, calls = _provider_failing(2, only=flaky)

    with patch:
        assert tasks.send_digests([reader.pk for reader in readers]) == "sent 2, retrying 1"
        while Delivery.objects.filter(status=Delivery.Status.RETRY).exists():
            time_passes()

    assert calls.count(flaky) == 3
    assert sorted(message.to[0] for message in mail.outbox) == sorted(r.email for r in readers)
    attempts = dict(Delivery.objects.values_list("subscriber__email", "attempts"))
    assert attempts == {r.email: 3 if r.email == flaky else 1 for r in readers}
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
