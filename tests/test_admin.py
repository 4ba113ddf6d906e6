"""Staff pages: every model is listed, searchable and filterable."""

import pytest
from django.urls import reverse

from digest.models import Source
from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("subscriptions/subscriber", "?q=anomaly&status__exact=active"),
        ("digest/paper", "?q=anomaly"),
        ("digest/source", "?q=arxiv&last_status__exact=never"),
        ("digest/delivery", "?q=ada&status__exact=sent"),
    ],
)
def test_each_changelist_searches_and_filters(
    admin_client, make_subscriber, ingested_papers, model, query
):
    make_subscriber()

    response = admin_client.get(f"/admin/{model}/{query}")

    assert response.status_code == 200


def test_a_subscriber_is_found_by_interest_text(admin_client, make_subscriber):
    make_subscriber(email="ada@example.com", interests=("graph neural networks",))
    make_subscriber(email="bob@example.com", interests=("astrophysics",))

    response = admin_client.get("/admin/subscriptions/subscriber/?q=graph")

    assert b"ada@example.com" in response.content
    assert b"bob@example.com" not in response.content


def test_the_subscriber_page_refuses_an_invalid_interest_with_the_engine_message(
    admin_client, make_subscriber
):
    subscriber = make_subscriber()
    url = reverse("admin:subscriptions_subscriber_change", args=[subscriber.pk])
    interest = subscriber.interests.get()
    data = {
        "email": subscriber.email,
        "status": "active",
        "frequency": "daily",
        "send_hour": "8",
        "time_zone": "UTC",
        "interests-TOTAL_FORMS": "2",
        "interests-INITIAL_FORMS": "1",
        "interests-0-id": str(interest.pk),
        "interests-0-subscriber": str(subscriber.pk),
        "interests-0-text": "anomaly detection",
        "interests-1-subscriber": str(subscriber.pk),
        "interests-1-text": "?!?",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert b"has no letters or digits to look for" in response.content
    assert Subscriber.objects.get().interests.count() == 1


# --- Sources (issue 11, findings 7 and 8) ---


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://10.0.0.5/feed.xml", "10.0.0.5 is a private address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is ::ffff:7f00:1, a loopback address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://localhost:8000/admin/", "localhost is a local name"),
    ],
)
def test_the_source_form_refuses_a_url_that_is_not_public(admin_client, url, reason):
    response = admin_client.post(
        reverse("admin:digest_source_add"), {"name": "", "url": url, "kind": "", "enabled": "on"}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert errors == [
        f"Paperboy will not fetch this URL: {reason}; feeds are fetched from public addresses only."
    ]
    assert not Source.objects.filter(url=url).exists()


def test_an_arxiv_kind_is_refused_for_a_feed_that_is_not_on_arxiv_or_an_allowed_host(
    admin_client, settings
):
    # An arXiv kind lets the feed describe arXiv's papers (issue 11, finding 3).
    def add(url: str):
        data = {"name": "", "url": url, "kind": "arxiv_rss", "enabled": "on"}
        return admin_client.post(reverse("admin:digest_source_add"), data)

    refused = add("https://arxiv.example/rss/cs.LG")
    settings.FETCH_ALLOWED_HOSTS = ["mirror.intranet"]  # a mirror the deployment trusts
    accepted = add("http://mirror.intranet/rss/cs.LG")

    assert refused.status_code == 200
    assert "The arXiv kinds are for arxiv.org addresses" in " ".join(
        refused.context["adminform"].form.errors["kind"]
    )
    assert accepted.status_code == 302
    assert not Source.objects.filter(url="https://arxiv.example/rss/cs.LG").exists()
    assert Source.objects.get(url="http://mirror.intranet/rss/cs.LG").kind == "arxiv_rss"


def test_staff_see_how_many_items_of_a_source_were_dropped_and_why(admin_client):
    Source.objects.all().delete()
    source = Source.objects.create(
        name="a journal",
        url="https://journal.example/rss",
        kind="feed",
        last_status="ok",
        last_summary="2 new, 0 updated, 0 unchanged, 1 dropped",
        last_dropped=1,
        last_problems="doi:10.1234/too.long: dropped, abs_url is longer than 500 characters",
    )

    changelist = admin_client.get(reverse("admin:digest_source_changelist"))
    change = admin_client.get(reverse("admin:digest_source_change", args=[source.pk]))

    assert '<td class="field-dropped">1</td>' in changelist.content.decode()
    assert "abs_url is longer than 500 characters" in change.content.decode()


# --- Sources: one per feed, a name of its own, a compact form, a first fetch at once (issue 12)

SOURCE_ADD = reverse("admin:digest_source_add")


@pytest.fixture(autouse=True)
def arxiv_sources(db) -> None:
    """The default sources, made by a migration; a transactional test before may have
    flushed them."""
    for topic in ("cs.LG", "cs.CL", "cs.AI"):
        Source.objects.get_or_create(
            name=f"arXiv {topic}",
            defaults={"url": f"https://rss.arxiv.org/rss/{topic}", "kind": "arxiv_rss"},
        )


def add_source(client, url: str, name: str = "", kind: str = ""):
    return client.post(SOURCE_ADD, {"url": url, "name": name, "kind": kind})


def form_errors(response, field: str) -> list[str]:
    return response.context["adminform"].form.errors.get(field, [])


@pytest.mark.parametrize(
    "url",
    [
        "http://rss.arxiv.org/rss/cs.LG",
        "https://RSS.arxiv.org/rss/cs.LG/",
        "https://rss.arxiv.org/rss/cs.LG?version=2",
        "rss.arxiv.org/rss/cs.LG",
    ],
)
def test_a_feed_that_is_a_source_already_is_refused_with_its_name(admin_client, url):
    response = add_source(admin_client, url)

    assert response.status_code == 200
    assert form_errors(response, "url") == [
        "This feed is a source already: “arXiv cs.LG” (https://rss.arxiv.org/rss/cs.LG)."
    ]
    assert Source.objects.filter(name__startswith="arXiv cs.LG").count() == 1


def test_a_source_given_no_name_gets_one_of_its_own(admin_client):
    api = "https://export.arxiv.org/api/query?search_query=cat:cs.LG+AND+abs:diffusion"

    responses = [
        add_source(admin_client, api),
        add_source(admin_client, "https://export.arxiv.org/api/query?search_query=cat:stat.ML"),
        # The same query for more results: another feed, the same name with a number.
        add_source(admin_client, api + "&max_results=200"),
        add_source(admin_client, "https://rss.arxiv.org/rss/quant-ph?version=2"),
    ]

    assert [response.status_code for response in responses] == [302, 302, 302, 302]
    names = set(Source.objects.values_list("name", flat=True))
    assert {
        "arXiv API: cat:cs.LG AND abs:diffusion",
        "arXiv API: cat:stat.ML",
        "arXiv API: cat:cs.LG AND abs:diffusion (2)",
        "arXiv quant-ph",
    } <= names


def test_a_name_given_twice_is_refused_saying_so(admin_client):
    response = add_source(admin_client, "https://journal.example/rss", name="arXiv cs.LG")

    assert response.status_code == 200
    assert form_errors(response, "name") == [
        "A source is named “arXiv cs.LG” already: choose another name, or leave it empty "
        "for one made from the URL."
    ]


def test_the_add_form_asks_only_for_the_url_name_and_kind(admin_client):
    source = Source.objects.get(name="arXiv cs.LG")

    add = admin_client.get(SOURCE_ADD)
    change = admin_client.get(reverse("admin:digest_source_change", args=[source.pk]))

    assert list(add.context["adminform"].form.fields) == ["url", "name", "kind"]
    for health in ("last_status", "last_error", "consecutive_failures", "etag"):
        assert f"field-{health}" not in add.content.decode()
        assert f"field-{health}" in change.content.decode()


@pytest.fixture
def fetches(monkeypatch) -> list[int]:
    """The ids of the sources whose fetch was enqueued (to run after the commit)."""
    from digest import tasks

    enqueued: list[int] = []
    monkeypatch.setattr(tasks.fetch_source, "delay_on_commit", enqueued.append)
    return enqueued


def test_a_new_source_is_fetched_at_once(admin_client, fetches):
    response = add_source(admin_client, "https://journal.example/rss")

    assert response.status_code == 302
    assert fetches == [Source.objects.get(url="https://journal.example/rss").pk]


def test_a_source_enabled_again_or_pointed_elsewhere_is_fetched_at_once(admin_client, fetches):
    source = Source.objects.get(name="arXiv cs.CL")
    other = Source.objects.get(name="arXiv cs.AI")
    Source.objects.filter(pk__in=[source.pk, other.pk]).update(enabled=False)
    change = reverse("admin:digest_source_change", args=[source.pk])
    data = {"url": source.url, "name": source.name, "kind": source.kind}

    admin_client.post(change, {**data, "name": "arXiv computation and language"})
    assert fetches == []  # renamed, still disabled

    admin_client.post(change, {**data, "enabled": "on"})
    assert fetches == [source.pk]

    admin_client.post(change, {**data, "enabled": "on", "name": "arXiv CL"})
    assert fetches == [source.pk]  # a new name reads nothing new

    admin_client.post(change, {**data, "url": "https://rss.arxiv.org/atom/cs.CL", "enabled": "on"})
    assert fetches == [source.pk, source.pk]

    changelist = reverse("admin:digest_source_changelist")
    enabled = Source.objects.get(name="arXiv cs.LG")
    admin_client.post(changelist, {"action": "enable", "_selected_action": [other.pk, enabled.pk]})
    assert fetches == [source.pk, source.pk, other.pk]  # the one that was disabled
    assert Source.objects.get(pk=other.pk).enabled


def test_the_source_list_keeps_long_errors_short_and_whole_on_hover(admin_client):
    error = "the server answered 503 Service Unavailable; " * 5
    Source.objects.filter(name="arXiv cs.LG").update(last_status="error", last_error=error)

    page = admin_client.get(reverse("admin:digest_source_changelist")).content.decode()

    assert f'<span title="{error}">{error[:59]}…</span>' in page
