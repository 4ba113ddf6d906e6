"""`trending` (issue 15): the period's most upvoted Hugging Face papers in the digest,
ranked by upvotes, each with its reason; a Hugging Face fetch reads the last days'
lists again, so a paper's upvotes grow on it and a later digest ranks by them. From
the recorded Hugging Face daily papers answer, served by a local HTTP server."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from digest import ingest, recent, sending, tasks
from digest.matching import InterestSyntaxError, validate_interest
from digest.models import Delivery, Paper, Source
from subscriptions.forms import SignupForm, parse_interest_lines
from tests.support import Route, serve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_feeds(settings):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]


# The recorded answer's papers by upvotes: 2606.13392 ▲103, 2606.13106 ▲18,
# 2606.11662 ▲10, 2606.11409 ▲8, 2606.12730 ▲5, 2606.09446 ▲1, 2606.00467 ▲0.
BY_UPVOTES = ["2606.13392", "2606.13106", "2606.11662", "2606.11409", "2606.12730"]


def _recorded(fixture_bytes) -> list[dict]:
    return json.loads(fixture_bytes("hf-daily-papers-api.json"))


def _with_upvotes(items: list[dict], upvotes: dict[str, int]) -> bytes:
    """The recorded answer as Hugging Face gives it later: the same papers, more votes."""
    items = json.loads(json.dumps(items))
    for item in items:
        item["paper"]["upvotes"] = upvotes.get(item["paper"]["id"], item["paper"]["upvotes"])
    return json.dumps(items).encode()


def _hugging_face(url: str) -> Source:
    Source.objects.all().delete()
    return Source.objects.create(name="Hugging Face", url=url, kind="hf_daily")


def _ids(items) -> list[str]:
    return [item.paper.canonical_id for item in items]


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("trending", "trending"),
        ("  Trending ", "trending"),
        ("trending:5", "trending:5"),
        ("TRENDING: 25", "trending:25"),
        ("trending topics in NLP", "trending topics in NLP"),
    ],
)
def test_a_trending_line_is_kept_tidy_and_other_lines_stay_words(line, kept):
    assert validate_interest(line) == kept


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("trending:0", "trending:0 asks for no papers: write a number from 1 to 25"),
        ("trending:26", "trending:26 asks for 26 papers: write a number from 1 to 25"),
        ("trending:ten", "trending: takes a number of papers, from 1 to 25"),
        (
            "trending:",
            "trending: takes a number of papers, from 1 to 25 (“trending:10”), not “nothing”",
        ),
        (
            "trending:-1",
            "trending: takes a number of papers, from 1 to 25 (“trending:10”), not “-1”",
        ),
    ],
)
def test_a_bad_count_is_refused_saying_what_it_takes(line, said):
    with pytest.raises(InterestSyntaxError, match=re.escape(said)):
        validate_interest(line)
    with pytest.raises(Exception, match=re.escape(f"Line 2: {said}")):
        parse_interest_lines(f"LLM\n{line}")


def test_trending_adds_the_most_upvoted_papers_ranked_by_upvotes_with_their_reason(
    make_subscriber, fixture_bytes
):
    with serve() as server:
        route = Route(body=fixture_bytes("hf-daily-papers-api.json"))
        source = _hugging_face(server.url("/api/daily_papers", route))
        assert not ingest.fetch_source(source).error
    make_subscriber(interests=("trending:3",))

    tasks.dispatch_digests()

    (message,) = mail.outbox
    delivery = Delivery.objects.get()
    assert delivery.paper_ids == BY_UPVOTES[:3]
    html, text = message.alternatives[0][0], message.body
    reasons = re.findall(r"trending on Hugging Face · ▲ (\d+)", text)
    assert reasons == ["103", "18", "10"]
    assert re.findall(r"trending on Hugging Face · ▲ (\d+)", html) == reasons
    # The upvotes are the reason: not said a second time after the links.
    assert "upvotes on Hugging Face" not in text and 'class="votes"' not in html
    assert "Nothing new this time for" not in text  # the line found its papers


def test_trending_goes_ahead_of_the_matches_and_a_paper_is_there_once(
    make_subscriber, fixture_bytes
):
    with serve() as server:
        route = Route(body=fixture_bytes("hf-daily-papers-api.json"))
        ingest.fetch_source(_hugging_face(server.url("/api/daily_papers", route)))
    subscriber = make_subscriber(interests=("LLMs", "trending:2"))

    items = sending.preview(subscriber).items

    assert _ids(items)[:2] == BY_UPVOTES[:2]
    assert len(set(_ids(items))) == len(items)
    keyword = [item for item in items if not item.trending]
    assert keyword and all(item.matched_interests == ["LLMs"] for item in keyword)
    both = [item for item in items if item.trending and len(item.reasons) == 2]
    for item in both:  # trending, and matched too: both reasons, said once
        assert item.matched_interests == ["trending:2", "LLMs"]


def test_an_upvote_refresh_changes_the_order_of_a_later_digest(
    make_subscriber, fixture_bytes, settings
):
    """Today's list is fetched; days later Hugging Face's list of that day has more
    votes: the fetch of another day reads it again, and the weekly digest ranks by it."""
    settings.BACKFILL_DELAY_SECONDS = 0
    settings.HF_REFRESH_DAYS = 3
    items = _recorded(fixture_bytes)
    featured = timezone.localdate() - timedelta(days=2)
    subscriber = make_subscriber(interests=("trending:3",), frequency="weekly")
    with serve() as server:
        url = server.url("/api/daily_papers", Route(body=json.dumps(items).encode()))
        source = _hugging_face(url)
        ingest.fetch_source(source, sleep=lambda seconds: None)
        assert _ids(sending.preview(subscriber).items) == BY_UPVOTES[:3]

        # Two days on: that day's list again, with 2606.12730 upvoted by many.
        later = {"2606.12730": 240, "2606.13106": 25, "2606.99999": 7}
        server.routes["/api/daily_papers"] = Route(body=b"[]")
        for offset in range(1, 4):
            day = timezone.localdate() - timedelta(days=offset)
            body = _with_upvotes(items, later) if day == featured else b"[]"
            server.routes[f"/api/daily_papers?date={day.isoformat()}"] = Route(body=body)
        outcome = ingest.fetch_source(source, sleep=lambda seconds: None)
        asked = [r["path"] for r in server.requests]

    assert not outcome.error
    assert asked[-4:] == [
        "/api/daily_papers",
        *(f"/api/daily_papers?date={timezone.localdate() - timedelta(days=n)}" for n in (3, 2, 1)),
    ]
    upvotes = dict(Paper.objects.values_list("canonical_id", "upvotes"))
    assert (upvotes["2606.12730"], upvotes["2606.13106"]) == (240, 25)
    source.refresh_from_db()
    assert source.last_summary.endswith("; upvotes of 2 older papers updated")

    tasks.dispatch_digests()

    assert Delivery.objects.get().paper_ids == ["2606.12730", "2606.13392", "2606.13106"]
    assert re.findall(r"▲ (\d+)", mail.outbox[0].body) == ["240", "103", "25"]


def test_a_refresh_touches_only_known_papers_and_a_failing_day_ends_it_quietly(
    fixture_bytes, settings
):
    settings.BACKFILL_DELAY_SECONDS = 0
    items = _recorded(fixture_bytes)
    unknown = json.loads(json.dumps(items[0]))
    unknown["paper"]["id"] = "2606.99999"
    with serve() as server:
        url = server.url("/api/daily_papers", Route(body=json.dumps(items[1:]).encode()))
        source = _hugging_face(url)
        yesterday = timezone.localdate() - timedelta(days=1)
        server.routes[f"/api/daily_papers?date={yesterday}"] = Route(
            body=json.dumps([unknown, *items]).encode()
        )
        # The days before: no route, so 404: the refresh stops there.
        outcome = ingest.fetch_source(source, sleep=lambda seconds: None)

    assert not outcome.error
    assert not Paper.objects.filter(canonical_id__in=["2606.99999", "2606.00467"]).exists()
    assert Paper.objects.count() == len(items) - 1
    source.refresh_from_db()
    assert source.last_status == "ok"


def test_a_reader_in_categories_gets_only_trending_papers_in_them(make_subscriber):
    for n, (category, upvotes) in enumerate([("cs.CV", 50), ("astro-ph.GA", 9), ("cs.LG", 30)]):
        Paper.objects.create(
            canonical_id=f"2607.0000{n}", title=f"Paper {n}", categories=[category], upvotes=upvotes
        )
    subscriber = make_subscriber(interests=("trending",), categories=["cs.LG", "astro-ph"])

    assert _ids(sending.preview(subscriber).items) == ["2607.00002", "2607.00001"]


def test_the_signup_box_adds_the_trending_line_and_is_enough_alone():
    base = {"email": "a@example.com", "frequency": "daily", "send_hour": "8"} | {"time_zone": "UTC"}

    alone = SignupForm({**base, "interests": "", "trending": "on"})
    with_words = SignupForm({**base, "interests": "LLM\ntrending:5", "trending": "on"})
    neither = SignupForm({**base, "interests": ""})

    assert alone.is_valid() and alone.cleaned_data["interests"] == ["trending"]
    assert with_words.is_valid() and with_words.cleaned_data["interests"] == ["LLM", "trending:5"]
    assert not neither.is_valid() and "Add at least one interest" in str(neither.errors)


def test_the_signup_page_offers_the_box(client):
    page = client.get("/").content.decode()

    assert 'name="trending"' in page and "Also the day&#x27;s top trending papers" in page


def test_the_preview_says_what_trending_finds(fixture_bytes):
    with serve() as server:
        route = Route(body=fixture_bytes("hf-daily-papers-api.json"))
        ingest.fetch_source(_hugging_face(server.url("/api/daily_papers", route)))

    found = recent.recent_matches(["trending:2"])
    (line,) = found.interests

    assert (line.interest, line.matches, line.warning) == ("trending:2", 2, "")
    assert line.example.title == Paper.objects.get(canonical_id="2606.13392").title
    assert found.total == 2
    Paper.objects.update(upvotes=None, updated_at=timezone.now())
    recent.check_again()
    (line,) = recent.interest_feedback(["trending"])
    assert line.warning == "No paper of the last 7 days has upvotes on Hugging Face"
    assert not line.suggestion
