"""Seeds (issue 15, part 3): a like: line's paper comes from the database, or from
arXiv's API when Paperboy never stored it (then stored); an id arXiv has no paper for,
or arXiv out of reach, refuses the save with the reason. arXiv is a local HTTP server
answering recorded Atom: one paper (totalResults 1) or none (totalResults 0)."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from digest import recent, seeds, tasks
from digest.models import Delivery, Paper
from digest.sources import arxiv_api
from subscriptions import services, tokens
from subscriptions.forms import ManageForm, SignupForm
from subscriptions.models import Interest, Subscriber
from tests.support import Route, serve

pytestmark = pytest.mark.django_db

KNOWN = "2606.13677"  # the paper of arxiv-api-atom-id-list-one.xml
KNOWN_TITLE = "Mana: Dexterous Manipulation of Articulated Tools"
NONEXISTENT = "2606.99999"  # arxiv-api-atom-id-list-none.xml: totalResults 0


@pytest.fixture
def arxiv(settings, fixture_bytes):
    """arXiv's API on 127.0.0.1: the id_list query of KNOWN answers its one paper, that
    of NONEXISTENT answers no entry; every request is kept in `requests`."""
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.BACKFILL_DELAY_SECONDS = 0
    with serve() as server:
        settings.ARXIV_API_URL = f"{server.base}/api/query"
        for canonical, name in [(KNOWN, "one"), (NONEXISTENT, "none")]:
            url = arxiv_api.id_list_url(settings.ARXIV_API_URL, [canonical])
            server.url(
                url.removeprefix(server.base),
                Route(
                    body=fixture_bytes(f"arxiv-api-atom-id-list-{name}.xml"),
                    headers={"Content-Type": "application/atom+xml"},
                ),
            )
        yield server


@pytest.fixture
def arxiv_down(settings):
    """arXiv out of reach: a port where nothing listens any more."""
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    with serve() as server:
        base = server.base
    settings.ARXIV_API_URL = f"{base}/api/query"


def manage_form(interests: str) -> ManageForm:
    return ManageForm(
        {
            "interests": interests,
            "frequency": "daily",
            "send_hour": "8",
            "time_zone": "UTC",
            "digest_length": "short",
        }
    )


def stored_paper(canonical_id: str = "2403.12345", title: str = "A stored paper") -> Paper:
    return Paper.objects.create(
        canonical_id=canonical_id,
        title=title,
        abstract="An abstract.",
        abs_url=f"https://arxiv.org/abs/{canonical_id}",
    )


def test_a_known_paper_is_taken_from_the_database_without_asking_arxiv(arxiv):
    stored_paper("2403.12345", "A stored paper")

    form = manage_form("LLM\nlike:https://arxiv.org/abs/2403.12345v3")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["interests"] == ["LLM", "like:2403.12345"]
    assert arxiv.requests == []


def test_an_unknown_paper_is_fetched_from_arxiv_and_stored(arxiv):
    form = manage_form(f"like:{KNOWN}v1")

    assert form.is_valid(), form.errors
    paper = Paper.objects.get(canonical_id=KNOWN)
    assert paper.title == KNOWN_TITLE
    assert paper.abstract.startswith("Articulated tool manipulation")
    assert paper.authors[:2] == ["Zhao-Heng Yin", "Guanya Shi"]
    assert paper.categories[0] == "cs.RO"
    # History, not news: seen when it was published.
    assert paper.first_seen == datetime(2026, 6, 11, 17, 59, 49, tzinfo=UTC)
    assert [request["path"] for request in arxiv.requests] == [
        f"/api/query?id_list={KNOWN}&max_results=1"
    ]

    # Known from now on: the next save asks arXiv nothing.
    assert manage_form(f"like:{KNOWN}").is_valid()
    assert len(arxiv.requests) == 1


def test_an_id_arxiv_has_no_paper_for_is_refused_saying_so(arxiv):
    form = manage_form(f"LLM\nlike:{NONEXISTENT}")

    assert not form.is_valid()
    assert form.errors["interests"] == [f"arXiv has no paper {NONEXISTENT}."]
    assert not Paper.objects.filter(canonical_id=NONEXISTENT).exists()
    assert len(arxiv.requests) == 1


def test_arxiv_out_of_reach_refuses_the_save_with_try_again_later(arxiv_down):
    form = manage_form(f"like:{KNOWN}")

    assert not form.is_valid()
    assert form.errors["interests"] == ["arXiv could not be reached; try again later."]
    assert not Paper.objects.exists()


def test_arxiv_out_of_reach_still_accepts_papers_it_knows(arxiv_down):
    stored_paper("2403.12345")

    assert manage_form("like:2403.12345").is_valid()


def test_a_malformed_like_line_is_refused_before_any_request(arxiv):
    form = manage_form("like:2403.123")

    assert not form.is_valid()
    assert "Line 1: like: “2403.123” is not a whole arXiv id" in form.errors["interests"][0]
    assert arxiv.requests == []


def test_the_signup_form_checks_seeds_too(arxiv):
    form = SignupForm(
        {
            "email": "ada@example.com",
            "interests": f"like:{NONEXISTENT}",
            "frequency": "daily",
            "send_hour": "8",
            "time_zone": "UTC",
        }
    )

    assert not form.is_valid()
    assert form.errors["interests"] == [f"arXiv has no paper {NONEXISTENT}."]


def test_seed_papers_are_the_stored_papers_of_the_like_lines_in_order(make_subscriber):
    first = stored_paper("2403.12345", "First")
    second = stored_paper("hep-th/9901001", "Second")
    subscriber = make_subscriber(
        interests=("like:hep-th/9901001", "LLM", "like:2403.12345", "like:2501.00001")
    )
    other = make_subscriber(email="bob@example.com", interests=("LLM",))

    assert seeds.seed_papers(subscriber) == [second, first]  # 2501.00001 is not stored
    assert seeds.seed_papers(other) == []
    assert seeds.seeds_of([subscriber.pk, other.pk]) == {subscriber.pk: [second, first]}


def test_a_like_line_says_which_paper_it_follows_not_that_it_found_nothing(db):
    recent.check_again()
    stored_paper("2403.12345", "A stored paper")

    known, unknown = recent.interest_feedback(["like:2403.12345", "like:2501.00001"])

    assert known.note == "follows papers like"
    assert known.example.title == "A stored paper"
    assert known.example.url == "https://arxiv.org/abs/2403.12345"
    assert known.warning == ""
    assert known.message == "follows papers like “A stored paper”"
    assert unknown.warning == ""
    assert "arXiv:2501.00001" in unknown.note


def test_the_live_preview_shows_the_title_next_to_the_id(client, make_subscriber):
    recent.check_again()
    stored_paper("2403.12345", "A stored paper")

    answer = client.post(
        reverse("subscriptions:preview_matches"), {"interests": "like:arxiv.org/abs/2403.12345"}
    ).json()

    (line,) = answer["interests"]
    assert line["interest"] == "like:2403.12345"
    assert line["note"] == "follows papers like"
    assert line["example"]["title"] == "A stored paper"
    assert line["warning"] == ""


def test_delete_everything_removes_the_like_lines(make_subscriber):
    stored_paper("2403.12345")
    subscriber = make_subscriber(interests=("like:2403.12345", "LLM"))

    services.delete_everything(subscriber, by="subscriber")

    assert not Interest.objects.filter(text="like:2403.12345").exists()
    assert not Subscriber.objects.exists()
    # The paper is arXiv's, no personal data: it stays for everyone else.
    assert Paper.objects.filter(canonical_id="2403.12345").exists()


def test_the_manage_page_shows_each_seed_with_its_title(client, make_subscriber):
    stored_paper("2403.12345", "A stored paper")
    subscriber = make_subscriber(interests=("like:2403.12345", "LLM"))
    url = reverse("subscriptions:manage", args=[tokens.make_token(tokens.MANAGE, subscriber.pk)])

    page = client.get(url).content.decode()

    assert "like:2403.12345" in page
    assert '<a href="https://arxiv.org/abs/2403.12345">A stored paper</a>' in page


def _admin_save(admin_client, subscriber: Subscriber, lines: list[str]):
    data = {
        "email": subscriber.email,
        "status": "active",
        "frequency": "daily",
        "send_hour": "8",
        "time_zone": "UTC",
        "digest_length": "short",
        "interests-TOTAL_FORMS": str(len(lines)),
        "interests-INITIAL_FORMS": "0",
    }
    for n, text in enumerate(lines):
        data[f"interests-{n}-subscriber"] = str(subscriber.pk)
        data[f"interests-{n}-text"] = text
    subscriber.interests.all().delete()
    url = reverse("admin:subscriptions_subscriber_change", args=[subscriber.pk])
    return admin_client.post(url, data)


def test_the_admin_refuses_a_seed_arxiv_has_no_paper_for_on_its_line(
    admin_client, make_subscriber, arxiv
):
    subscriber = make_subscriber(interests=())

    response = _admin_save(admin_client, subscriber, ["LLM", f"like:{NONEXISTENT}"])

    assert response.status_code == 200
    assert f"arXiv has no paper {NONEXISTENT}." in response.content.decode()
    assert not subscriber.interests.exists()


def test_the_admin_fetches_an_unknown_seed_and_saves_it(admin_client, make_subscriber, arxiv):
    subscriber = make_subscriber(interests=())

    response = _admin_save(admin_client, subscriber, [f"like:arxiv.org/abs/{KNOWN}v1"])

    assert response.status_code == 302
    assert list(subscriber.interests.values_list("text", flat=True)) == [f"like:{KNOWN}"]
    assert Paper.objects.get(canonical_id=KNOWN).title == KNOWN_TITLE


def test_staff_see_each_readers_seeds_and_the_papers_they_follow(admin_client, make_subscriber):
    recent.check_again()
    stored_paper("2403.12345", "A stored paper")
    subscriber = make_subscriber(interests=("like:2403.12345", "LLM"))

    listing = admin_client.get(reverse("admin:subscriptions_subscriber_changelist")).content
    page = admin_client.get(
        reverse("admin:subscriptions_subscriber_change", args=[subscriber.pk])
    ).content.decode()

    assert b'field-seed_count">1<' in listing
    report = page.split('class="interest-report"')[1]
    assert "follows papers like" in report
    assert '<a href="https://arxiv.org/abs/2403.12345">A stored paper</a>' in report
    assert "No paper of the last" not in report.split("LLM")[0]


def test_a_digest_never_lists_a_like_line_among_the_interests_that_found_nothing(
    make_subscriber,
):
    stored_paper("2607.01234", "Graph neural networks for rainfall")
    stored_paper("2403.12345", "A seed")  # first seen now too: the like line finds it not
    make_subscriber(interests=("like:2403.12345", "graph neural networks", "zebrafish"))

    tasks.dispatch_digests()

    (message,) = mail.outbox
    assert Delivery.objects.get().paper_ids == ["2607.01234"]
    assert "Nothing new this time for: zebrafish.\n" in message.body
    assert "Nothing new this time for: <strong>zebrafish</strong>." in message.alternatives[0][0]


def test_a_signup_with_a_seed_shows_its_paper_on_the_confirm_page(
    client, arxiv, django_capture_on_commit_callbacks
):
    import re

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/",
            {
                "email": "grace@example.com",
                "interests": f"LLM\nlike:https://arxiv.org/abs/{KNOWN}v1",
                "frequency": "daily",
                "send_hour": "7",
                "time_zone": "UTC",
                "website": "",
            },
        )

    assert response.status_code == 302
    confirm = re.search(r"https://paperboy\.example(/confirm/[^/\s]+/)", mail.outbox[0].body)
    page = client.get(confirm.group(1)).content.decode()
    assert f"<li>like:{KNOWN}</li>" in page
    assert (
        f'<code>like:{KNOWN}</code>: <a href="https://arxiv.org/abs/{KNOWN}">{KNOWN_TITLE}' in page
    )


def test_lookups_on_arxiv_are_limited_for_the_whole_site(arxiv, settings):
    settings.SEED_LOOKUPS_PER_MINUTE = 1

    first = manage_form(f"like:{NONEXISTENT}")
    second = manage_form(f"like:{KNOWN}")

    assert first.errors["interests"] == [f"arXiv has no paper {NONEXISTENT}."]
    assert second.errors["interests"] == [seeds.BUSY]
    assert len(arxiv.requests) == 1


def test_a_group_takes_no_like_lines(db):
    from django.core.exceptions import ValidationError

    from groups.forms import GroupForm
    from groups.models import Group, GroupInterest

    form = GroupForm(
        {
            "name": "Reading club",
            "interests": "LLM\nlike:2403.12345",
            "frequency": "weekly",
            "send_hour": "8",
            "time_zone": "UTC",
        }
    )
    group = Group(name="Reading club", owner_email="ada@example.com")

    assert not form.is_valid()
    assert "like: lines are for your own digests" in form.errors["interests"][0]
    with pytest.raises(ValidationError, match="not a group's"):
        GroupInterest(group=group, text="like:2403.12345").clean()
