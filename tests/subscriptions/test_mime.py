"""A message serialized by subscriptions/mime.py is, byte for byte, what Python's email
generator writes for it (Django's own as_bytes): digests as the sender builds them, and
messages made to try the edges (non-ASCII, every kind of line end, lines too long for
8bit, long and odd headers, attachments the fast path leaves to the generator)."""

import random
import uuid

import pytest
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
        _compare(compose.build_digest_message(subscriber, items, delivery, interests=[]))
