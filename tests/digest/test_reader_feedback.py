""" "More like this" / "less like this" from the digest (issue 15): every paper of the
email (HTML and text) and of its web copy carries the two links, signed for its delivery
and paper; a GET (a person, or a mail gateway's scanner) records nothing, the page's
button does; the answer says what was recorded, undoes it, and leads to the page that
lists and removes what the reader marked; delete everything takes it all."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from digest import likes, sending, staff_preview, tasks
from digest.models import Delivery, Feedback, Paper
from subscriptions import services, tokens, your_data
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

SITE = "https://paperboy.example"
LINK = re.compile(re.escape(SITE) + r"(/feedback/[^/\s\"]+/)(more|less)/")


def _paper(canonical_id: str, title: str) -> Paper:
    return Paper.objects.create(
        canonical_id=canonical_id,
        title=title,
        abstract="We study graph neural networks for rainfall.",
        categories=["cs.LG"],
        abs_url=f"https://arxiv.org/abs/{canonical_id}",
        published_at=datetime(2026, 6, 29, tzinfo=UTC),
    )


@pytest.fixture
def digest(make_subscriber):
    """A sent digest of two papers: (subscriber, its html, its text)."""
    _paper("2607.00001", "Rain from sparse graph neural networks")
    _paper("2607.00002", "Graph neural networks for floods")
    subscriber = make_subscriber(interests=("graph neural networks",))
    tasks.dispatch_digests()
    (message,) = mail.outbox
    return subscriber, message.alternatives[0][0], message.body


def _links(text: str) -> dict[tuple[str, str], str]:
    """(token path, choice) -> path, in the order they appear."""
    return {(m.group(1), m.group(2)): m.group(1) + m.group(2) + "/" for m in LINK.finditer(text)}


def _link_of(text: str, paper: Paper, choice: str) -> str:
    for (path, found), url in _links(text).items():
        if found == choice and f".{paper.pk}." in path:
            return url
    raise AssertionError(f"no {choice} link for {paper.canonical_id}")


def test_every_paper_of_the_email_has_both_links_in_html_and_text(digest):
    _, html, text = digest
    delivery = Delivery.objects.get()

    for part in (html, text):
        links = _links(part)
        assert len(links) == 4  # two papers, more and less each
        for paper in Paper.objects.all():
            expected = f"/feedback/{likes.link_token(delivery.pk, paper.pk)}/"
            assert (expected, "more") in links and (expected, "less") in links
    assert "More like this" in html and "Less like this" in text


def test_a_scanners_get_records_nothing_and_asks_with_a_button(client, digest):
    _, html, _ = digest
    paper = Paper.objects.get(canonical_id="2607.00001")
    url = _link_of(html, paper, "more")

    for method in (client.get, client.head):
        response = method(url)
        assert response.status_code == 200
    page = client.get(url).content.decode()

    assert Feedback.objects.count() == 0
    assert "More like this?" in page and paper.title in page
    assert '<form method="post">' in page and 'value="record"' in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]


def test_the_button_records_and_the_answer_says_what_with_undo_and_the_manage_page(client, digest):
    subscriber, html, _ = digest
    paper = Paper.objects.get(canonical_id="2607.00001")

    page = client.post(_link_of(html, paper, "more"), {"action": "record"}).content.decode()

    feedback = Feedback.objects.get()
    assert (feedback.subscriber, feedback.paper, feedback.value) == (subscriber, paper, 1)
    assert feedback.delivery == Delivery.objects.get()
    assert "Recorded: more like this" in page and paper.title in page
    assert 'value="undo"' in page
    manage_token = re.search(r'href="/manage/([^/"]+)/feedback/"', page).group(1)
    assert tokens.read_token(tokens.MANAGE, manage_token) == subscriber.pk
    assert f'href="/manage/{manage_token}/"' in page


def test_the_latest_click_wins_and_undo_puts_back_what_was_there(client, digest):
    _, html, _ = digest
    paper = Paper.objects.get(canonical_id="2607.00001")
    more, less = _link_of(html, paper, "more"), _link_of(html, paper, "less")

    client.post(more, {"action": "record"})
    answer = client.post(less, {"action": "record"}).content.decode()
    assert list(Feedback.objects.values_list("value", flat=True)) == [-1]

    previous = re.search(r'name="previous" value="([^"]*)"', answer).group(1)
    client.post(less, {"action": "undo", "previous": previous})
    assert list(Feedback.objects.values_list("value", flat=True)) == [1]

    answer = client.post(more, {"action": "record"}).content.decode()
    previous = re.search(r'name="previous" value="([^"]*)"', answer).group(1)
    page = client.post(more, {"action": "undo", "previous": previous}).content.decode()
    assert list(Feedback.objects.values_list("value", flat=True)) == [1]  # it was "more"

    Feedback.objects.all().delete()
    client.post(more, {"action": "record"})
    page = client.post(more, {"action": "undo", "previous": ""}).content.decode()
    assert Feedback.objects.count() == 0
    assert "Undone" in page


def test_a_tampered_or_borrowed_link_records_nothing(client, digest, make_subscriber):
    _, html, _ = digest
    first, second = Paper.objects.order_by("canonical_id")
    url = _link_of(html, first, "more")
    token = url.split("/")[2]
    kind_delivery, paper_pk, mac = token.split(".")
    other_mac = likes.link_token(int(kind_delivery[1:]), second.pk).split(".")[2]

    for bad in (
        f"{kind_delivery}.{second.pk}.{mac}",  # another paper under this paper's MAC
        f"{kind_delivery}.{paper_pk}.{other_mac}",
        f"e999.{paper_pk}.{mac}",
        f"w{kind_delivery[1:]}.{paper_pk}.{mac}",  # the web copy's kind
        token[:-1],
        "not-a-token",
    ):
        response = client.post(f"/feedback/{bad}/more/", {"action": "record"})
        assert response.status_code == 400, bad
    assert client.post(f"/feedback/{token}/maybe/", {"action": "record"}).status_code == 404
    assert Feedback.objects.count() == 0


def test_a_link_expires_with_its_digest(client, digest, settings):
    _, html, _ = digest
    paper = Paper.objects.get(canonical_id="2607.00001")
    Delivery.objects.update(
        claimed_at=timezone.now() - timedelta(days=settings.WEB_COPY_MAX_AGE_DAYS + 1)
    )

    response = client.post(_link_of(html, paper, "more"), {"action": "record"})

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert Feedback.objects.count() == 0


def test_the_web_copy_has_the_links_and_its_answer_opens_no_account(client, digest):
    _, _, text = digest
    web_path = re.search(re.escape(SITE) + r"(/digest/[^/\s]+/)", text).group(1)
    web_copy = client.get(web_path).content.decode()
    paper = Paper.objects.get(canonical_id="2607.00002")

    url = _link_of(web_copy, paper, "less")
    assert url.startswith("/feedback/w")
    page = client.post(url, {"action": "record"}).content.decode()

    assert Feedback.objects.get().value == -1
    assert "/manage/" not in page
    assert "use a “more like this” link in the email" in page


def test_the_manage_page_lists_what_was_marked_and_removes_any_of_it(client, digest):
    subscriber, html, _ = digest
    first, second = Paper.objects.order_by("canonical_id")
    client.post(_link_of(html, first, "more"), {"action": "record"})
    client.post(_link_of(html, second, "less"), {"action": "record"})
    token = tokens.make_token(tokens.MANAGE, subscriber.pk)

    manage = client.get(f"/manage/{token}/").content.decode()
    assert f'href="/manage/{token}/feedback/"' in manage and "2 papers you asked" in manage
    page = client.get(f"/manage/{token}/feedback/").content.decode()
    more, less = page.split("Less like this (1)")
    assert first.title in more and second.title in less

    kept = Feedback.objects.get(paper=second)
    page = client.post(f"/manage/{token}/feedback/", {"remove": kept.pk}).content.decode()

    assert list(Feedback.objects.values_list("paper", flat=True)) == [first.pk]
    assert "Removed 1 paper." in page and "Less like this (0)" in page


def test_the_manage_page_removes_only_its_own_readers_feedback(client, digest, make_subscriber):
    subscriber, html, _ = digest
    paper = Paper.objects.get(canonical_id="2607.00001")
    client.post(_link_of(html, paper, "more"), {"action": "record"})
    other = make_subscriber(email="eve@example.com")
    token = tokens.make_token(tokens.MANAGE, other.pk)

    client.post(f"/manage/{token}/feedback/", {"remove": Feedback.objects.get().pk})

    assert Feedback.objects.filter(subscriber=subscriber).count() == 1


def test_delete_everything_removes_the_feedback(client, digest):
    subscriber, html, _ = digest
    for paper in Paper.objects.all():
        client.post(_link_of(html, paper, "more"), {"action": "record"})
    assert Feedback.objects.count() == 2

    services.delete_everything(subscriber, by="subscriber")

    assert Feedback.objects.count() == 0
    assert not Subscriber.objects.exists()
    assert Paper.objects.count() == 2  # the papers are nobody's data
    # Its links now lead nowhere, and say so.
    response = client.post(_link_of(html, Paper.objects.first(), "more"), {"action": "record"})
    assert response.status_code == 404


def test_the_readers_export_holds_their_feedback(client, digest):
    subscriber, html, _ = digest
    paper = Paper.objects.get(canonical_id="2607.00001")
    client.post(_link_of(html, paper, "less"), {"action": "record"})

    exported = your_data.export_data(subscriber)

    (said,) = exported["feedback"]
    assert (said["paper"], said["title"], said["said"]) == (paper.canonical_id, paper.title, "less")


def test_a_test_digest_for_staff_has_no_feedback_links(make_subscriber):
    _paper("2607.00001", "Rain from sparse graph neural networks")
    subscriber = make_subscriber(interests=("graph neural networks",))

    message = staff_preview.build_test_digest(
        subscriber, sending.preview(subscriber), "staff@example.com"
    )

    assert "/feedback/" not in message.body
    assert "/feedback/" not in message.alternatives[0][0]
    assert "Rain from sparse" in message.body
