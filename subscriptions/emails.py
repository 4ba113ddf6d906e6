"""Account email: confirmation, "you already subscribe", and the manage link.

One builder renders the three templates of a message (subject, text, HTML)
under one prefix; everything a person typed reaches only the body, never a header.
"""

import base64
import unicodedata

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string

from subscriptions import tokens
from subscriptions.mime import FastMultipart, email_bytes
from subscriptions.models import Subscriber


def header_text(text: str) -> str:
    """`text` fit for a header: one line, without control or format characters (bidi
    overrides and isolates, zero-width characters), which could make a subject read
    differently from what it says."""
    if text.isascii() and text.isprintable():
        return " ".join(text.split())  # no control characters, and ASCII has no format ones
    kept = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    return " ".join(kept.split())


# An encoded-word is at most 75 characters (RFC 2047); of 36 bytes, it is 60
# ("=?utf-8?b?" + 48 + "?="), so the first fits after "Subject: " on a 78-character line.
_WORD_BYTES = 36


def encoded_words(text: str) -> str:
    """`text` as RFC 2047 base64 encoded-words (ASCII as it is), split between
    characters, one space apart: a decoder joins adjacent words, ignoring the space."""
    if text.isascii():
        return text
    words, word = [], b""
    for char in text:
        octets = char.encode()
        if len(word) + len(octets) > _WORD_BYTES:
            words.append(word)
            word = b""
        word += octets
    words.append(word)
    return " ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


class Email(EmailMultiAlternatives):
    """An email whose subject is encoded once, cheaply, when the message is built.

    Python's email package encodes a non-ASCII header character by character,
    measuring the line again at each (quadratic in its length): for a digest's subject,
    which ends in "…" when the first title is cut, ~1.5 ms of every message sent over
    SMTP. Given encoded-words, which are ASCII, Django leaves them as they are. Only
    the MIME message changes: `subject` stays the text, as an ESP's API wants it.
    """

    def message(self):
        subject, self.subject = self.subject, encoded_words(self.subject)
        try:
            message = super().message()
        finally:
            self.subject = subject
        # The same message, serialized by subscriptions/mime.py (the same bytes, for a
        # fraction of the generator's CPU): what an SMTP hand-over spends most on.
        if type(message) is SafeMIMEMultipart:
            message.__class__ = FastMultipart
        return message

    def as_bytes(self, linesep: str = "\r\n") -> bytes:
        """`self.message().as_bytes(linesep=linesep)`, the same bytes, written without
        building the message where subscriptions/mime.py knows its shape (a digest's
        and every account email's): what Paperboy's SMTP backend (config/smtp.py) sends."""
        written = email_bytes(self, linesep, subject=encoded_words(self.subject))
        return written if written is not None else self.message().as_bytes(linesep=linesep)


def build_message(
    template_prefix: str, context: dict, to: str, from_email: str, headers: dict | None = None
) -> Email:
    """Render `<prefix>_subject.txt`, `<prefix>.txt` and `<prefix>.html` into one message."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = header_text(render_to_string(f"{template_prefix}_subject.txt", context))
    message = Email(
        subject=subject,
        body=render_to_string(f"{template_prefix}.txt", context),
        from_email=from_email,
        to=[to],
        headers=headers or {},
    )
    message.attach_alternative(render_to_string(f"{template_prefix}.html", context), "text/html")
    return message


def send_confirmation(subscriber: Subscriber) -> None:
    # How many interests, not what they say: whoever signs up can type anything, and
    # the confirmation goes to an inbox of their choosing. The confirmation page,
    # behind the link, shows them to the owner of the address.
    signup = subscriber.unconfirmed_signup
    context = {
        "subscriber": subscriber,
        "interest_count": len(signup["interests"]) if signup else subscriber.interests.count(),
        "confirm_url": tokens.absolute_url(tokens.CONFIRM, subscriber.pk),
        "max_age_days": settings.CONFIRM_LINK_MAX_AGE_DAYS,
    }
    build_message("emails/confirm", context, subscriber.email, settings.DEFAULT_FROM_EMAIL).send()


def send_already_subscribed(subscriber: Subscriber) -> None:
    context = {
        "subscriber": subscriber,
        "interests": [interest.text for interest in subscriber.interests.all()],
        "unsubscribe_url": tokens.absolute_url(tokens.UNSUBSCRIBE, subscriber.pk),
        "manage_url": tokens.absolute_url(tokens.MANAGE, subscriber.pk),
    }
    build_message(
        "emails/already_subscribed", context, subscriber.email, settings.DEFAULT_FROM_EMAIL
    ).send()


def send_manage_link(subscriber: Subscriber) -> None:
    context = {
        "subscriber": subscriber,
        "manage_url": tokens.absolute_url(tokens.MANAGE, subscriber.pk),
        "max_age_days": settings.MANAGE_LINK_MAX_AGE_DAYS,
    }
    build_message(
        "emails/manage_link", context, subscriber.email, settings.DEFAULT_FROM_EMAIL
    ).send()
