"""Paperboy's SMTP backend: Django's, sending an email's bytes as Email.as_bytes writes them.

The same conversation and the same bytes as django.core.mail.backends.smtp (which
works too), for less of the CPU the hand-over threads share with the building of the
next digests under one GIL: a Paperboy email's bytes are written without building its
email.message objects (subscriptions/mime.py, compared byte for byte with Django's in
tests/subscriptions/test_mime.py), and the sender's address, the same on every digest,
is parsed once. Any other email goes as Django sends it.

    EMAIL_BACKEND=config.smtp.EmailBackend EMAIL_HOST=... (Django's EMAIL_* settings)
"""

import smtplib
from functools import lru_cache

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.core.mail.message import EmailMessage, sanitize_address

from subscriptions.emails import Email


@lru_cache(maxsize=64)
def _sender(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


class EmailBackend(DjangoSMTPBackend):
    def _send(self, email_message: EmailMessage) -> bool:
        # Django's _send, but for the sender's address and how the message becomes bytes.
        if not isinstance(email_message, Email):
            return super()._send(email_message)
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = (
            _sender(email_message.from_email, encoding)
            if isinstance(email_message.from_email, str)
            else sanitize_address(email_message.from_email, encoding)
        )
        recipients = [sanitize_address(to, encoding) for to in email_message.recipients()]
        data = email_message.as_bytes(linesep="\r\n")
        try:
            self.connection.sendmail(from_email, recipients, data)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
