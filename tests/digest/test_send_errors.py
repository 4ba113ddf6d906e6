"""Provider and SMTP answers told apart by their codes: temporary ones retried, only a
definite refusal of the recipient suppresses, and an unseen end of a hand-over is
known to be uncertain."""

import smtplib

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

from digest.send_errors import classify

TRANSIENT, PERMANENT, REFUSED = "temporary", "permanent", "address refused"


def _at_rcpt(code: int, text: bytes) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({"ada@example.com": (code, text)})


@pytest.mark.parametrize(
    ("error", "kind", "reply"),
    [
        # Greylisting and other temporary answers at RCPT TO, wherever they come.
        (_at_rcpt(451, b"4.7.1 Greylisted, try again later"), TRANSIENT, "451 4.7.1"),
        (_at_rcpt(450, b"4.2.0 Mailbox busy"), TRANSIENT, "450 4.2.0"),
        (_at_rcpt(421, b"4.3.2 Service shutting down"), TRANSIENT, "421 4.3.2"),
        (_at_rcpt(452, b"4.2.2 Over quota"), TRANSIENT, "452"),
        # A definite "no such mailbox or domain": suppress.
        (_at_rcpt(550, b"5.1.1 User unknown"), REFUSED, "550 5.1.1 User unknown"),
        (_at_rcpt(553, b"5.1.3 Bad recipient address syntax"), REFUSED, "553 5.1.3"),
        (_at_rcpt(550, b"No such user here"), REFUSED, "550 No such user here"),
        (_at_rcpt(551, b"User not local"), REFUSED, "551"),
        # Permanent but not the mailbox's fault: this digest fails, the address stays.
        (_at_rcpt(550, b"5.7.1 Message rejected as spam"), PERMANENT, "550 5.7.1"),
        (_at_rcpt(552, b"5.2.2 Mailbox full"), PERMANENT, "552 5.2.2"),
        (_at_rcpt(554, b"Transaction failed"), PERMANENT, "554"),
        # After DATA: 4xx temporary (a 421 shutdown too), 5.1.x refuses the recipient.
        (smtplib.SMTPDataError(451, b"4.3.0 Try again"), TRANSIENT, "451 4.3.0"),
        (smtplib.SMTPDataError(421, b"4.4.2 Timeout"), TRANSIENT, "421"),
        (smtplib.SMTPDataError(554, b"5.6.0 Content rejected"), PERMANENT, "554 5.6.0"),
        (smtplib.SMTPDataError(550, b"5.1.1 Unknown user"), REFUSED, "550 5.1.1"),
        # Our side: MAIL FROM, HELO, connect, authentication.
        (smtplib.SMTPSenderRefused(451, b"4.4.3 Try later", "digest@x"), TRANSIENT, "451"),
        (smtplib.SMTPSenderRefused(553, b"5.1.8 Bad sender", "digest@x"), PERMANENT, "553"),
        (smtplib.SMTPConnectError(421, b"Too many connections"), TRANSIENT, "421"),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), PERMANENT, "535"),
        (ConnectionRefusedError(111, "Connection refused"), TRANSIENT, "ConnectionRefused"),
        (TimeoutError("timed out"), TRANSIENT, "TimeoutError"),
        # ESPs through anymail.
        (AnymailRecipientsRefused("invalid recipient"), REFUSED, "invalid recipient"),
        (AnymailAPIError("bad request", status_code=422), PERMANENT, "bad request"),
        (AnymailAPIError("slow down", status_code=429), TRANSIENT, "slow down"),
        (AnymailAPIError("timeout", status_code=408), TRANSIENT, "timeout"),
        (AnymailAPIError("provider down", status_code=503), TRANSIENT, "provider down"),
    ],
)
def test_answers_are_told_apart_by_their_codes(error, kind, reply):
    found = classify(error)

    assert found.kind == kind
    assert reply in found.reply
    assert not found.maybe_sent


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        AnymailAPIError("Read timed out"),  # the request got no answer at all
    ],
)
def test_a_hand_over_whose_end_was_not_seen_may_have_reached_the_server(error):
    found = classify(error)

    assert (found.kind, found.maybe_sent) == (TRANSIENT, True)
