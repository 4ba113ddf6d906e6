"""What an email backend's exception says about one digest: try again later, give up,
or stop mailing the address; and whether the provider may have the message already.

SMTP answers are read by their codes (RFC 5321 §4.2): every 4xx is temporary,
wherever it comes (greylisting at RCPT TO, "421 shutting down", a 451 after
DATA), and is retried. Only a definite, permanent refusal of the recipient
suppresses the address: a 5xx at RCPT TO (or after DATA) whose enhanced status
is 5.1.x (bad mailbox or domain, RFC 3463), or, without an enhanced status,
550/551/553, RFC 5321's "mailbox unavailable", "user not local" and "mailbox
name not allowed". A policy refusal (5.7.x) or a full mailbox fails this digest
and keeps the address. ESPs through anymail: a rejected recipient is the ESP's
hard reject (suppress); 408, 429 and 5xx are temporary; other 4xx are our
request's fault (failed, not retried).

A hand-over whose end was not seen (the connection dropped or timed out
mid-conversation, an API request with no answer) is `maybe_sent`: the server
may have the message. It is retried like any transient failure, and since every
attempt of a digest carries the same Message-ID, a receiver can tell a copy.
"""

import re
import smtplib
from dataclasses import dataclass

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

_ENHANCED_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_MAILBOX_CODES = {550, 551, 553}


@dataclass(frozen=True)
class SendError:
    transient: bool  # worth another attempt later
    refuses_address: bool  # a permanent refusal of the recipient: send it nothing more
    maybe_sent: bool  # the provider may have the message although the attempt failed
    reply: str  # "451 4.7.1 Greylisted, try again later", or the error as text

    @property
    def kind(self) -> str:
        if self.refuses_address:
            return "address refused"
        return "temporary" if self.transient else "permanent"


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


def refuses_recipient(code: int, text: str) -> bool:
    """True for a permanent SMTP refusal that says this mailbox or domain is no good."""
    if not 500 <= code < 600:
        return False
    enhanced = _ENHANCED_STATUS.match(text)
    if enhanced:
        return enhanced.group(1) == "5" and enhanced.group(2) == "1"
    return code in _MAILBOX_CODES


def _smtp_reply(code: int, message: bytes | str, *, at_recipient: bool) -> SendError:
    text = _text(message)
    reply = f"{code} {text}".strip()
    if 400 <= code < 500:
        return SendError(transient=True, refuses_address=False, maybe_sent=False, reply=reply)
    refused = at_recipient and refuses_recipient(code, text)
    return SendError(transient=False, refuses_address=refused, maybe_sent=False, reply=reply)


def describe(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # some provider errors cannot describe themselves without a response
        text = " ".join(str(arg) for arg in error.args)
    status = getattr(error, "status_code", None)
    name = f"{type(error).__name__} (HTTP {status})" if status else type(error).__name__
    return f"{name}: {text}" if text else name


def classify(error: BaseException) -> SendError:
    """The meaning of an exception an email backend raised while sending one digest."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # One recipient per digest; smtplib maps each refused address to its reply.
        code, message = next(iter(error.recipients.values()), (0, b""))
        return _smtp_reply(code, message, at_recipient=True)
    if isinstance(error, smtplib.SMTPDataError):
        # Servers that check recipients late refuse them here, with the same codes.
        return _smtp_reply(error.smtp_code, error.smtp_error, at_recipient=True)
    if isinstance(error, smtplib.SMTPResponseException):  # MAIL FROM, HELO, AUTH, connect
        return _smtp_reply(error.smtp_code, error.smtp_error, at_recipient=False)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        # Closed or timed out mid-conversation: perhaps after the server had the message.
        return SendError(
            transient=True, refuses_address=False, maybe_sent=True, reply=describe(error)
        )
    if isinstance(error, AnymailRecipientsRefused):
        return SendError(
            transient=False, refuses_address=True, maybe_sent=False, reply=describe(error)
        )
    if isinstance(error, AnymailAPIError):
        status = getattr(error, "status_code", None)
        if status is None:  # the request got no answer: it may have arrived
            return SendError(
                transient=True, refuses_address=False, maybe_sent=True, reply=describe(error)
            )
        transient = status in (408, 429) or status >= 500
        return SendError(
            transient=transient, refuses_address=False, maybe_sent=False, reply=describe(error)
        )
    # Connection refused, DNS, timeouts while connecting, a bug while rendering: nothing
    # reached the provider, and it may work later.
    return SendError(transient=True, refuses_address=False, maybe_sent=False, reply=describe(error))
