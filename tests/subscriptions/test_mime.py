"""A message serialized by subscriptions/mime.py is, byte for byte, what Python's email
generator writes for it (Django's own as_bytes), and an email's bytes written without
building its message (Email.as_bytes, what config/smtp.py sends) are what building and
serializing it gives: digests as the sender builds them, and messages made to try the
edges (non-ASCII, every kind of line end, lines too long for 8bit, long and odd
headers, addresses in extra headers, Cc and Reply-To, an international domain, no text
body, attachments and charsets the fast paths leave to Django and the generator)."""

import random
import uuid

import pytest
import time_machine
from django.core.mail.message import SafeMIMEMultipart
from django.utils import timezone

from digest import compose, matching
from digest.models import Delivery, Paper
from subscriptions import mime
from subscriptions.emails import Email

pytestmark = pytest.mark.django_db

PIECES = [
    "plain words",
    "Schr\u00f6dinger\u2019s \u2014 \u201cquoted\u201d \u2713",
    "\r\n",
    "\n",
    "\r",
    "\n\n",
    "x" * 1200,  # a line over 998 characters: Django encodes the part quoted-printable
    "From the start of a line",
    ".a dot first",
    "  spaced  ",
    "\t",
]
SUBJECTS = [
    "Short",
    "3 new papers on your topics: A title that is long enough to be folded somewhere",
    "Schrödinger bridges … and more",
    "",
]


def _compare(message: Email) -> None:
    built = message.message()
    assert type(built) is mime.FastMultipart
    for linesep in ("\r\n", "\n"):
        fast = mime.multipart_bytes(built, linesep)
        assert fast is not None
        assert fast == SafeMIMEMultipart.as_bytes(built, linesep=linesep)
        assert built.as_bytes(linesep=linesep) == fast


def _compare_written(message: Email, written: bool = True) -> None:
    """Email.as_bytes against message().as_bytes, their Date, Message-ID and boundary
    drawn from the same clock and the same random numbers."""
    for linesep in ("\r\n", "\n"):
        with time_machine.travel("2026-12-07 10:00:00", tick=False):
            random.seed(linesep)
            direct = message.as_bytes(linesep=linesep)
            random.seed(linesep)
            built = message.message().as_bytes(linesep=linesep)
        assert direct == built
        assert (mime.email_bytes(message, linesep) is not None) is written


def test_made_up_messages_come_out_as_the_generator_writes_them():
    rng = random.Random(5)
    for case in range(200):
        body, html = ("".join(rng.choices(PIECES, k=rng.randint(0, 12))) for _ in range(2))
        message = Email(
            subject=rng.choice(SUBJECTS),
            body=body,
            from_email=rng.choice(["a@example.com", "Paperboy digest <d@example.com>"]),
            to=[f"reader{case}@example.com"],
            headers={
                "List-Unsubscribe": f"<https://example.com/u/{'t' * rng.randint(1, 120)}/>",
                "List-Id": rng.choice(["Paperboy <digest.example.com>", "x  y", " lead", "trail "]),
                "X-Long": "word " * rng.randint(1, 30) + "end",
            },
        )
        message.attach_alternative(html, "text/html")
        _compare(message)
        _compare_written(message, written="x" * 1200 not in body + html)


def test_made_up_emails_come_out_as_building_them_would():
    rng = random.Random(11)
    for case in range(200):
        body = "".join(rng.choices(PIECES[:-5], k=rng.randint(0, 8)))  # no long lines
        headers = {"List-Unsubscribe": f"<https://example.com/u/{case}/>"}
        if rng.random() < 0.3:
            headers["Message-ID"] = f"<m{case}@example.com>"
        if rng.random() < 0.2:
            headers["To"] = "Someone Else <else@example.com>"
        if rng.random() < 0.2:
            headers["From"] = "Schr\u00f6dinger <cat@example.com>"
        if rng.random() < 0.2:
            headers["Date"] = "Mon, 07 Dec 2026 09:00:00 -0000"
        message = Email(
            subject=rng.choice(SUBJECTS),
            body=body,
            from_email=rng.choice(["a@example.com", "Ren\u00e9e <renee@example.com>"]),
            to=rng.choice([[f"r{case}@example.com"], ["x@b\u00fccher.example", "y@example.com"]]),
            cc=rng.choice([[], ["cc@example.com"]]),
            reply_to=rng.choice([[], ["Help <help@example.com>"]]),
            headers=headers,
        )
        message.attach_alternative("".join(rng.choices(PIECES[:-5], k=6)), "text/html")
        _compare_written(message)


def test_an_email_the_direct_path_does_not_know_is_built_and_serialized():
    attached = Email("Hi", "text", "a@example.com", ["b@example.com"])
    attached.attach_alternative("<p>html</p>", "text/html")
    attached.attach("data.bin", b"\x00\x01\x02", "application/octet-stream")
    long_line = Email("Hi", "x" * 1200, "a@example.com", ["b@example.com"])
    long_line.attach_alternative("<p>html</p>", "text/html")
    latin = Email("Hi", "caf\u00e9", "a@example.com", ["b@example.com"])
    latin.encoding = "iso-8859-1"
    latin.attach_alternative("<p>caf\u00e9</p>", "text/html")
    plain = Email("Hi", "only text", "a@example.com", ["b@example.com"])
    for message in (attached, long_line, latin, plain):
        _compare_written(message, written=False)


def test_a_message_the_fast_path_does_not_know_goes_through_the_generator():
    message = Email("Hi", "text", "a@example.com", ["b@example.com"])
    message.attach_alternative("<p>html</p>", "text/html")
    message.attach("data.bin", b"\x00\x01\x02", "application/octet-stream")
    built = message.message()
    assert mime.multipart_bytes(built, "\r\n") is None  # a mixed multipart inside
    assert built.as_bytes(linesep="\r\n") == SafeMIMEMultipart.as_bytes(built, linesep="\r\n")


def test_digests_come_out_as_the_generator_writes_them(make_subscriber):
    rng = random.Random(9)
    papers = Paper.objects.bulk_create(
        Paper(
            canonical_id=f"2612.{n:05d}",
            title=rng.choice(["Anomaly detection at scale", "Schrödinger <bridges> & “LLMs”"]),
            abstract="We study anomaly detection. It works & <well>. " * rng.randint(1, 9),
            authors=[f"Author {a}" for a in range(rng.randint(0, 7))],
            categories=["cs.LG"],
            abs_url=f"https://arxiv.org/abs/2612.{n:05d}",
            upvotes=rng.choice([0, 3]),
        )
        for n in range(20)
    )
    subscriber = make_subscriber()
    reason = matching.Reason("anomaly detection", ("anomaly", "detection"), ("abstract",))
    for case in range(20):
        subscriber.digest_length = rng.choice(["titles", "short", "full"])
        items = [compose.DigestItem(p, 1.0, (reason,)) for p in rng.sample(papers, case)]
        delivery = Delivery(
            pk=500 + case,
            subscriber=subscriber,
            period="2026-12-02",
            message_key=uuid.UUID(int=case),
            claimed_at=timezone.now(),
        )
        digest = compose.build_digest_message(subscriber, items, delivery, interests=[])
        _compare(digest)
        _compare_written(digest)
