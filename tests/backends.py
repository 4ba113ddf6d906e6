"""Email providers for the worker and fault tests: one that is slow to accept each message (so a
worker can be killed mid-chunk), and one that records what it was handed, per thread."""

import os
import threading
import time

from django.core.mail.backends.base import BaseEmailBackend

from config.outbox import EmailBackend


class SlowOutboxBackend(EmailBackend):
    """The local outbox, taking SLOW_OUTBOX_SECONDS (default 0.5) to accept each message.

    The wait comes before the .eml is written: a message killed mid-wait was never
    accepted by the provider.
    """

    def send_messages(self, email_messages):
        delay = float(os.environ.get("SLOW_OUTBOX_SECONDS", "0.5"))
        sent = 0
        for message in email_messages:
            time.sleep(delay)
            sent += super().send_messages([message])
        return sent


class RecordingBackend(BaseEmailBackend):
    """Accepts every message after `delay` seconds and records (recipient, Message-ID)."""

    delay = 0.02
    _lock = threading.Lock()
    accepted: list[tuple[str, str]] = []

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.accepted = []

    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(self.delay)
            with self._lock:
                self.accepted.extend((to, message.extra_headers["Message-ID"]) for to in message.to)
        return len(email_messages)
