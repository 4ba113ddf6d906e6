"""Paperboy's SMTP backend (config/smtp.py) puts on the wire what Django's does: the same
bytes reach a real SMTP server (aiosmtpd) for a Paperboy email and for any other, lines
that start with "." included, and its dot-stuffing is smtplib's."""

import random
import smtplib

import pytest
import time_machine
from django.core.mail import EmailMessage, get_connection

from config.smtp import dot_stuffed
from subscriptions.emails import Email


def test_its_dot_stuffing_is_smtplibs():
    rng = random.Random(3)
    pieces = [b".", b"..", b"\r\n", b"\n", b"\r", b"\r\n.", b"x", b" "]
    for _ in range(5000):
        data = b"".join(rng.choices(pieces, k=rng.randint(0, 20)))
        assert dot_stuffed(data) == smtplib._quote_periods(data)


def _digest_like() -> Email:
    message = Email(
        subject="3 new papers on your topics: Schrödinger bridges … and more",
        body=".a line that starts with a dot\n..and two\nplain\n.\nthe end",
        from_email="Paperboy digest <digest@example.com>",
        to=["reader@bücher.example"],
        headers={"List-Unsubscribe": "<https://example.com/unsubscribe/abc/>"},
    )
    message.attach_alternative("<p>.dot first</p>\n.<b>again</b>\n", "text/html")
    return message


@pytest.mark.parametrize(
    "make", [_digest_like, lambda: EmailMessage("Hi", ".x\n", "a@b.c", ["d@e.f"])]
)
def test_the_server_receives_what_djangos_backend_sends(smtp_inbox, make):
    for backend in ("config.smtp.EmailBackend", "django.core.mail.backends.smtp.EmailBackend"):
        with time_machine.travel("2026-12-07 10:00:00", tick=False):
            random.seed(1)  # the same Message-ID and boundary from both
            with get_connection(backend) as connection:
                assert connection.send_messages([make()]) == 1

    ours, djangos = smtp_inbox.messages
    assert ours == djangos
    assert ours[2].count(b"\r\n.") >= 1  # a line that starts with "." arrived as it was
