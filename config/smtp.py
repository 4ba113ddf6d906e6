"""Paperboy's SMTP backend: Django's, sending an email's bytes as Email.as_bytes writes them.

The same conversation and the same bytes as django.core.mail.backends.smtp (which
works too), for less of the CPU the hand-over threads share with the building of the
next digests under one GIL:

- a Paperboy email's bytes are written without building its email.message objects
  (subscriptions/mime.py, compared byte for byte with Django's in
  tests/subscriptions/test_mime.py); any other email goes as Django sends it;
- the sender's address, the same on every digest, is parsed once;
- DATA's dot-stuffing (a line that starts with "." gets another) is two bytes
  replaces, where smtplib runs a multiline regular expression over the whole message
  (0.6 ms of a digest's ~50 KB).

    EMAIL_BACKEND=config.smtp.EmailBackend EMAIL_HOST=... (Django's EMAIL_* settings)
"""

import smtplib
from functools import lru_cache

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.core.mail.message import EmailMessage, sanitize_address

from subscriptions.emails import Email


def dot_stuffed(data: bytes) -> bytes:
    """`data` with a "." put before every line's leading ".", as smtplib's
    `re.sub(rb"(?m)^\\.", b"..", data)` (a line starts at the start or after b"\\n")."""
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


class _QuickData:
    def data(self, msg):
        # smtplib.SMTP.data, but for how the lines that start with "." are stuffed.
        if not isinstance(msg, bytes):
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = dot_stuffed(msg)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.send(stuffed + b".\r\n")
        return self.getreply()


class _SMTP(_QuickData, smtplib.SMTP):
    pass


class _SMTPOverTLS(_QuickData, smtplib.SMTP_SSL):
    pass


@lru_cache(maxsize=64)
def _sender(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


class EmailBackend(DjangoSMTPBackend):
    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _SMTPOverTLS if self.use_ssl else _SMTP

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
