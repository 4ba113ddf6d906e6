"""A digest that learns each reader (issue 15, part 4): their "more / less like this"
clicks train a model (digest.personal) that re-ranks the keyword matches and suggests
papers no keyword caught, with the liked paper they are like; a reader with no
feedback gets the keywords' digest exactly. The papers are real (tests/relevance/v2)."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from digest import compose, evaluations, likes, personal, sending, tasks
from digest.models import Delivery, Feedback, Paper, ReaderModel, TextRepresentation
from subscriptions import services, tokens

pytestmark = pytest.mark.django_db

PAPERS = json.loads(
    (Path(__file__).parents[1] / "relevance" / "v2" / "papers.json").read_text(encoding="utf-8")
)

# Two papers on neural networks that recognize quantum phases: a gravitational-wave
# reader's keywords catch neither.
LIKED = "2606.28199"
SIMILAR = "2606.28201"
# The window: gravitational-wave papers, the similar one, and others.
WINDOW = [
    "2606.27418",
    "2606.27643",
    "2606.28161",
    "2606.28699",
    "2606.31434",
    "2606.28721",
    SIMILAR,
    "1701.07875",
    "2606.29767",
    "2606.30917",
]


@pytest.fixture
def papers(db) -> dict[str, Paper]:
    """Every paper of the set stored (the representation's corpus), seen a month ago;
    the window's first seen an hour ago."""
    month_ago = timezone.now() - timedelta(days=30)
    Paper.objects.bulk_create(
        Paper(
            canonical_id=p["id"],
            title=p["title"],
            abstract=p.get("abstract", ""),
            authors=p.get("authors", []),
            categories=p.get("categories", []),
            abs_url=f"https://arxiv.org/abs/{p['id']}",
            first_seen=month_ago,
        )
        for p in PAPERS
    )
    Paper.objects.filter(canonical_id__in=WINDOW).update(
        first_seen=timezone.now() - timedelta(hours=1)
    )
    return Paper.objects.in_bulk(field_name="canonical_id")


def _click(subscriber, paper: Paper, value: int) -> Feedback:
    return Feedback.objects.create(subscriber=subscriber, paper=paper, value=value)


def _order(subscriber) -> list[str]:
    return [item.paper.canonical_id for item in sending.preview(subscriber).items]


def test_likes_make_an_unmatched_similar_paper_a_suggestion_with_its_reason(
    papers, make_subscriber
):
    reader = make_subscriber(interests=("gravitational waves",))
    before = sending.preview(reader).items
    assert SIMILAR not in [item.paper.canonical_id for item in before]

    _click(reader, papers[LIKED], 1)
    tasks.train_reader(reader.pk)

    items = sending.preview(reader).items
    suggestions = [item for item in items if item.suggested]
    assert 1 <= len(suggestions) <= 3  # LEARNING_SUGGESTIONS
    # The likeliest first, with the liked paper it is like.
    suggestion = suggestions[0]
    assert suggestion.paper.canonical_id == SIMILAR
    title = " ".join(papers[LIKED].title.split())
    assert suggestion.reasons[0].interest == f'like "{title}" you liked'
    # Every keyword match is still there.
    assert {i.paper.canonical_id for i in before} <= {i.paper.canonical_id for i in items}


def test_the_email_marks_a_suggestion_apart_in_html_and_text(papers, make_subscriber):
    reader = make_subscriber(interests=("gravitational waves",))
    _click(reader, papers[LIKED], 1)
    tasks.train_reader(reader.pk)

    tasks.dispatch_digests()

    (message,) = mail.outbox
    html, text = message.alternatives[0][0], message.body
    assert '<strong class="suggested"' in html and "Suggested for you" in html
    assert "Suggested for you: like" in text and "you liked" in text
    # The digest keeps it as one of its items, reason and all, for its web copy.
    delivery = Delivery.objects.get()
    stored = {entry[0]: entry[2] for entry in delivery.items}
    assert stored[SIMILAR][0][2] == [compose.SUGGESTED]
    assert "Suggested for you" in compose.web_copy_html(delivery)


def test_dislikes_push_a_matched_paper_down(papers, make_subscriber):
    reader = make_subscriber(interests=("gravitational waves",))
    keyword_order = _order(reader)
    target = keyword_order[0]
    liked = keyword_order[1:4]
    # Other gravitational-wave papers like the target, disliked earlier...
    for paper_id in ("2606.29039", "2606.31999", "2606.28699", "2606.31434"):
        if paper_id != target and paper_id not in liked:
            _click(reader, papers[paper_id], -1)
    # ... and the other matches liked.
    for paper_id in liked:
        _click(reader, papers[paper_id], 1)
    tasks.train_reader(reader.pk)

    learned = [pid for pid in _order(reader) if pid in keyword_order]
    assert learned.index(target) > keyword_order.index(target)
    assert sorted(learned) == sorted(keyword_order)


def test_a_reader_with_no_feedback_gets_exactly_the_keyword_digest(papers, make_subscriber):
    interests = ("gravitational waves", "topological phases of matter")
    plain = make_subscriber(email="plain@example.com", interests=interests)
    clicker = make_subscriber(email="clicker@example.com", interests=interests)
    _click(clicker, papers[LIKED], 1)
    tasks.refresh_reader_models()
    assert not ReaderModel.objects.filter(subscriber=plain).exists()
    assert ReaderModel.objects.filter(subscriber=clicker).exists()

    tasks.dispatch_digests()

    window = compose.papers_first_seen_between(timezone.now() - timedelta(days=7), timezone.now())
    expected = compose.items_as_json(compose.select_items(list(interests), window))
    assert Delivery.objects.get(subscriber=plain).items == json.loads(expected)
    # The same chunk's other reader got a digest of their own.
    assert Delivery.objects.get(subscriber=clicker).items != json.loads(expected)
    by_address = {message.to[0]: message for message in mail.outbox}
    assert "Suggested for you" not in by_address["plain@example.com"].body
    assert "Suggested for you" in by_address["clicker@example.com"].body


def test_delete_everything_removes_the_model(papers, make_subscriber):
    reader = make_subscriber(interests=("gravitational waves",))
    _click(reader, papers[LIKED], 1)
    tasks.train_reader(reader.pk)
    assert ReaderModel.objects.filter(subscriber=reader).exists()

    services.delete_everything(reader, by="the subscriber")

    assert not ReaderModel.objects.exists()
    assert not Feedback.objects.exists()


def test_the_nightly_task_fits_the_representation_and_retrains_changed_readers(
    papers, make_subscriber
):
    reader = make_subscriber(email="a@example.com", interests=("gravitational waves",))
    quiet = make_subscriber(email="b@example.com", interests=("dark matter",))
    _click(reader, papers[LIKED], 1)

    assert tasks.refresh_reader_models() == "representation changed; 1 readers to train"
    assert TextRepresentation.objects.get().papers == len(PAPERS)
    model = ReaderModel.objects.get(subscriber=reader)
    assert (model.kind, model.likes, model.dislikes) == ("centroid", 1, 0)
    assert not ReaderModel.objects.filter(subscriber=quiet).exists()

    # Nothing changed: nobody to train.
    assert tasks.refresh_reader_models() == "representation unchanged; 0 readers to train"

    # Later clicks: that reader again, now with both sides.
    for paper_id in ("2606.27418", "2606.27643", "2606.30917"):
        _click(reader, papers[paper_id], 1)
    for paper_id in ("1701.07875", "2606.29767", "2606.28721"):
        _click(reader, papers[paper_id], -1)
    assert tasks.refresh_reader_models() == "representation unchanged; 1 readers to train"
    model.refresh_from_db()
    assert (model.kind, model.likes, model.dislikes) == ("logistic", 4, 3)

    # Every click removed: the model goes too.
    Feedback.objects.filter(subscriber=reader).delete()
    assert tasks.refresh_reader_models() == "representation unchanged; 1 readers to train"
    assert not ReaderModel.objects.exists()


def test_a_click_on_more_like_this_changes_the_next_preview(
    client, papers, make_subscriber, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://paperboy.example"
    reader = make_subscriber(interests=("gravitational waves",))
    personal.fit_representation()
    delivery = Delivery.objects.create(
        subscriber=reader,
        period="2026-06-01",
        window_start=timezone.now() - timedelta(days=40),
        window_end=timezone.now() - timedelta(days=20),
        status=Delivery.Status.SENT,
    )
    url = likes.link_maker(delivery.pk)(papers[LIKED].pk) + "more/"
    path = url.removeprefix(settings.SITE_URL)

    with django_capture_on_commit_callbacks(execute=True):
        client.get(path)  # a scanner's GET: nothing recorded, nothing trained
    assert not ReaderModel.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 200

    preview = sending.preview(reader, since=timezone.now() - timedelta(days=2))
    suggested = [item.paper.canonical_id for item in preview.items if item.suggested]
    assert suggested[0] == SIMILAR


def test_the_manage_pages_preview_shows_what_the_model_suggests(client, papers, make_subscriber):
    reader = make_subscriber(interests=("gravitational waves",))
    path = reverse(
        "subscriptions:manage_preview", args=[tokens.make_token(tokens.MANAGE, reader.pk)]
    )
    form = {"interests": "gravitational waves"}
    assert client.post(path, form).json()["suggested"] == []

    _click(reader, papers[LIKED], 1)
    tasks.train_reader(reader.pk)

    suggested = client.post(path, form).json()["suggested"]
    title = " ".join(papers[LIKED].title.split())
    assert suggested[0] == {
        "title": papers[SIMILAR].title,
        "url": papers[SIMILAR].abs_url,
        "reason": f'like "{title}" you liked',
    }
    # The signup page's preview knows no reader.
    assert client.post(reverse("subscriptions:preview_matches"), form).json()["suggested"] == []


def test_the_manage_pages_preview_button_without_javascript_shows_them_too(
    client, papers, make_subscriber
):
    reader = make_subscriber(interests=("gravitational waves",))
    _click(reader, papers[LIKED], 1)
    tasks.train_reader(reader.pk)
    path = reverse("subscriptions:manage", args=[tokens.make_token(tokens.MANAGE, reader.pk)])

    page = client.post(path, {"interests": "gravitational waves", "preview": "1"}).content.decode()

    assert "Suggested for you, from what you marked:" in page
    assert papers[SIMILAR].title in page and "you liked" in page


def test_a_keyword_match_beyond_the_cap_is_never_called_a_suggestion_and_one_is_shown(
    papers, make_subscriber, settings
):
    settings.DIGEST_MAX_PAPERS = settings.WEB_COPY_MAX_PAPERS = 2
    reader = make_subscriber(interests=("gravitational waves",))
    # Older gravitational-wave papers liked (very like the window's matches), and one on
    # quantum phases.
    for paper_id in ("2606.29039", "2606.31999", "2606.30765", LIKED):
        _click(reader, papers[paper_id], 1)
    tasks.train_reader(reader.pk)

    tasks.dispatch_digests()

    window = compose.papers_first_seen_between(timezone.now() - timedelta(days=7), timezone.now())
    matched = {
        item.paper.canonical_id for item in compose.select_items(["gravitational waves"], window)
    }
    assert len(matched) > 2  # more matches than the cap
    delivery = Delivery.objects.get()
    suggested = {entry[0] for entry in delivery.items if entry[2][0][2] == [compose.SUGGESTED]}
    assert SIMILAR in suggested and not suggested & matched
    # The suggestion is added within what the email shows, however many matched.
    assert SIMILAR in delivery.paper_ids[:2]
    assert delivery.more_count >= len(matched) - 2


def test_followed_papers_are_likes_too_and_their_suggestions_say_so(papers, make_subscriber):
    reader = make_subscriber(interests=("gravitational waves",))

    counts = personal.train_readers([reader.pk], followed={reader.pk: [papers[LIKED]]})

    assert counts == {"centroid": 1}
    model = ReaderModel.objects.get(subscriber=reader)
    assert (model.likes, model.dislikes, model.seeds) == (0, 0, 1)
    (suggestion, *_) = [item for item in sending.preview(reader).items if item.suggested]
    title = " ".join(papers[LIKED].title.split())
    assert suggestion.paper.canonical_id == SIMILAR
    assert suggestion.reasons[0].interest == f'like "{title}" you follow'


def test_changing_the_followed_papers_trains_the_model_again(
    make_subscriber, django_capture_on_commit_callbacks
):
    reader = make_subscriber(interests=("gravitational waves",))
    preferences = services.Preferences(
        interests=["gravitational waves", "like:2606.28199"],
        frequency=reader.frequency,
        send_hour=reader.send_hour,
        time_zone=reader.time_zone,
        categories=[],
    )
    with django_capture_on_commit_callbacks() as callbacks:
        services.update_preferences(reader, preferences)
    assert len(callbacks) == 1  # train_reader, after the commit

    with django_capture_on_commit_callbacks() as callbacks:
        services.update_preferences(reader, preferences)  # the same lines: nothing to learn
    assert callbacks == []


def test_a_like_line_alone_gives_a_reader_a_model_at_night(papers, make_subscriber):
    reader = make_subscriber(interests=("gravitational waves", f"like:{LIKED}"))

    tasks.refresh_reader_models()

    model = ReaderModel.objects.get(subscriber=reader)
    assert (model.likes, model.dislikes, model.seeds) == (0, 0, 1)
    suggested = [item for item in sending.preview(reader).items if item.suggested]
    assert suggested[0].paper.canonical_id == SIMILAR
    assert suggested[0].reasons[0].interest.endswith(" you follow")


def test_readers_with_models_cost_a_chunk_no_more_queries(papers, make_subscriber):
    def queries_of_a_chunk(prefix: str, with_models: bool) -> int:
        readers = [
            make_subscriber(email=f"{prefix}{n}@example.com", interests=("gravitational waves",))
            for n in range(3)
        ]
        if with_models:
            for reader in readers:
                _click(reader, papers[LIKED], 1)
            personal.train_readers([reader.pk for reader in readers])
        with CaptureQueriesContext(connection) as queries:
            sending.send_chunk([reader.pk for reader in readers])
        return len(queries)

    evaluations.prepare_recent()  # as the fetch that brought the papers did
    plain = queries_of_a_chunk("plain", with_models=False)
    learned = queries_of_a_chunk("learned", with_models=True)

    assert learned == plain
    assert Delivery.objects.filter(status="sent").count() == 6
