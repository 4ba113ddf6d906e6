"""A message's subject, encoded by subscriptions.emails.Email: what a mail client
decodes is the subject as written, whatever its characters and length."""

from email import message_from_bytes, policy

import pytest
from django.core.mail import EmailMultiAlternatives

from subscriptions.emails import Email, encoded_words

SUBJECTS = [
    "3 new papers on your topics",
    "25 new papers on your topics: Diffusion models for protein design, a survey of…",
    "1 new paper on your topics: Équations de Navier\u2013Stokes et méthodes spectrales",
    "Ω" * 90,
    ("emoji 🚀 and CJK 漢字 " * 6).strip(),
]


def _sent(message: EmailMultiAlternatives) -> bytes:
    return message.message().as_bytes(linesep="\r\n")


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_client_reads_the_subject_as_written(subject):
    message = Email(subject, "body", "digest@example.com", ["reader@example.com"])

    raw = _sent(message)
    read = message_from_bytes(raw, policy=policy.default)

    assert str(read["Subject"]) == subject
    assert raw.isascii()  # every header encoded, the body ASCII here
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert message.subject == subject  # what an ESP's API is given


@pytest.mark.parametrize("subject", SUBJECTS)
def test_it_reads_as_djangos_own_encoding_reads(subject):
    ours = Email(subject, "body", "digest@example.com", ["reader@example.com"])
    djangos = EmailMultiAlternatives(subject, "body", "digest@example.com", ["reader@example.com"])

    read = [message_from_bytes(_sent(m), policy=policy.default) for m in (ours, djangos)]

    # Django's folding may start the subject on a line of its own (a leading space).
    assert str(read[0]["Subject"]) == str(read[1]["Subject"]).strip()


def test_encoded_words_are_at_most_75_characters_and_split_between_characters():
    words = encoded_words("é" * 100 + "🚀" * 30).split(" ")

    assert len(words) > 1 and all(len(word) <= 75 for word in words)
    assert encoded_words("plain ASCII") == "plain ASCII"
