"""What a feed writes reaches a digest as text, and a digest's web copy opens no account:
escaping of every paper field, stand-ins no feed can produce, no manage or unsubscribe
link outside the email, and one digest per period enforced by the database itself."""

import re

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from digest import tasks
from digest.models import Delivery, Paper

pytestmark = pytest.mark.django_db

ATTACK = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _web_copy_path(message) -> str:
    return re.search(r"https://paperboy\.example(/digest/[^/\s]+/)", message.body).group(1)


def test_a_web_copy_carries_no_account_link_and_says_how_to_get_one(
    client, make_subscriber, ingested_papers
):
    reader = make_subscriber(email="ada@example.com", interests=("anomaly detection",))
    tasks.dispatch_digests()
    (message,) = mail.outbox
    assert "/manage/" in message.body and "/unsubscribe/" in message.body  # the email has them

    page = client.get(_web_copy_path(message)).content.decode()

    assert "Performance <mark>Anomaly Detection</mark> in Athletics" in page
    assert "/manage/" not in page and "/unsubscribe/" not in page
    assert reader.email not in page
    assert 'href="https://paperboy.example/my-link/"' in page
    assert "use the links in the email itself" in page


def test_markup_in_an_abstract_or_author_reaches_email_and_web_copy_escaped(
    client, make_subscriber, db
):
    # Stored as it came (as if a parser had let it through): the templates must escape it.
    Paper.objects.create(
        canonical_id="2612.00777",
        title="Anomaly detection with markup",
        abstract=f"On anomaly detection. {ATTACK}",
        authors=[f"Mallory {ATTACK}"],
        categories=[ATTACK],  # the primary category is shown
        abs_url="https://arxiv.org/abs/2612.00777",
    )
    make_subscriber(interests=("anomaly detection",))
    tasks.dispatch_digests()
    (message,) = mail.outbox
    html, _ = message.alternatives[0]
    page = client.get(_web_copy_path(message)).content.decode()

    for rendered in (html, page):
        assert "<img" not in rendered and "<script" not in rendered
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in rendered
        assert "Mallory &lt;img" in rendered


@pytest.mark.parametrize("slot", ["title", "abstract", "interests", "words"])
def test_no_feed_field_can_pull_a_readers_data_into_the_digest(make_subscriber, db, slot):
    # The stand-ins of an older build: a feed that knows them must get nothing from them.
    marker = f"\ue000{slot}\ue000"
    Paper.objects.create(
        canonical_id="2612.00888",
        title=f"Anomaly detection {marker} title",
        abstract=f"A study of anomaly detection. {marker}",
        authors=[f"Eve {marker}"],
        abs_url=f"https://evil.example/track?i={marker}",
        pdf_url=f"https://evil.example/pdf?i={marker}",
        hf_url=f"https://evil.example/hf?i={marker}",
    )
    make_subscriber(interests=("anomaly detection", "zebrafish"))

    tasks.dispatch_digests()

    html, _ = mail.outbox[0].alternatives[0]
    text = mail.outbox[0].body
    # The reader's interest that found nothing is named once, in the footer, and nowhere
    # a paper's fields are.
    assert html.count("zebrafish") == 1 and text.count("zebrafish") == 1
    assert "Nothing new this time for: <strong>zebrafish</strong>." in html
    assert "Nothing new this time for: zebrafish." in text
    # Each field shows exactly what the feed wrote, the stand-in included.
    for field in ("track", "pdf", "hf"):
        assert f'href="https://evil.example/{field}?i={marker}"' in html
        assert f"https://evil.example/{field}?i={marker}\n" in text
    assert f"Eve {marker}" in html and f"Eve {marker}" in text
    assert f"<mark>Anomaly detection</mark> {marker} title" in html


def test_the_database_refuses_a_second_digest_for_one_period(make_subscriber, ingested_papers):
    """The last line of defence of "one digest per period", whatever the code above it."""
    make_subscriber()
    tasks.dispatch_digests()
    delivery = Delivery.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(
            subscriber=delivery.subscriber,
            period=delivery.period,
            window_start=delivery.window_start,
            window_end=delivery.window_end,
        )
