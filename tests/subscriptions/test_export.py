"""Your data: everything as JSON, the papers one was sent as BibTeX and CSV, and
interests imported from a text file or from another Paperboy's export."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from digest import ingest, tasks
from digest.models import Delivery, Paper
from digest.sources import PaperRecord
from subscriptions import feeds, services, tokens, your_data
from subscriptions.models import Interest, Subscriber

pytestmark = pytest.mark.django_db


def token_of(subscriber: Subscriber) -> str:
    return tokens.make_token(tokens.MANAGE, subscriber.pk)


def export_url(subscriber: Subscriber, kind: str) -> str:
    return reverse("subscriptions:export", args=[token_of(subscriber), kind])


def manage_url(subscriber: Subscriber) -> str:
    return reverse("subscriptions:manage", args=[token_of(subscriber)])


def upload(client, subscriber: Subscriber, content: bytes, name: str = "interests.txt", **data):
    file = SimpleUploadedFile(name, content, content_type="text/plain")
    return client.post(manage_url(subscriber), {"action": "import", "file": file, **data})


@pytest.fixture
def reader(make_subscriber, ingested_papers):
    """A subscriber with preferences of their own and one digest sent."""
    subscriber = make_subscriber(
        interests=("anomaly detection", 'author:"Yann LeCun"'),
        time_zone="Asia/Tokyo",
        send_hour=6,
        categories=["cs.LG", "stat.ML"],
        digest_length=Subscriber.DigestLength.FULL,
        signup_ip="192.0.2.7",
        signup_user_agent="Firefox",
    )
    feeds.renew(subscriber)
    tasks.dispatch_digests()
    Delivery.objects.filter(subscriber=subscriber).update(
        feedback="2026-11-29T10:00Z delivered: 250 OK"
    )
    Subscriber.objects.filter(pk=subscriber.pk).update(
        paused_until=timezone.localdate() + timedelta(days=20)
    )
    subscriber.refresh_from_db()
    return subscriber


def test_the_json_export_holds_everything_kept_about_the_subscriber(client, reader):
    response = client.get(export_url(reader, "json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="paperboy-export-\d{4}-\d\d-\d\d\.json"',
        response["Content-Disposition"],
    )
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert (data["format"], data["version"]) == ("paperboy-export", 1)
    assert data["email"] == reader.email
    assert data["preferences"] == {
        "frequency": "daily",
        "send_hour": 6,
        "time_zone": "Asia/Tokyo",
        "categories": ["cs.LG", "stat.ML"],
        "paused_until": reader.paused_until.isoformat(),
        "digest_length": "full",
    }
    assert [i["text"] for i in data["interests"]] == ["anomaly detection", 'author:"Yann LeCun"']
    assert data["consent"]["signup_ip"] == "192.0.2.7"
    assert data["consent"]["signup_user_agent"] == "Firefox"
    assert data["consent"]["confirmed_at"] == reader.confirmed_at.isoformat()
    assert data["feed"] is True
    assert reader.feed_token not in response.content.decode()  # the secret stays here
    [digest] = data["digests"]
    assert digest["status"] == "sent"
    assert digest["provider_reports"] == "2026-11-29T10:00Z delivered: 250 OK"
    assert [p["id"] for p in digest["papers"]] == ["2604.21953", "2604.21956"]
    first = digest["papers"][0]
    assert first["title"].startswith("Performance Anomaly Detection in Athletics")
    assert first["abs_url"] == "https://arxiv.org/abs/2604.21953"
    assert first["authors"] == ["Blessed Madukoma", "Prasenjit Mitra"]
    assert first["matched"] == [
        {"interest": "anomaly detection", "words": ["Anomaly Detection"], "fields": ["title"]}
    ]


def test_the_bibtex_export_has_one_entry_per_paper_sent_in_arxiv_form(client, reader):
    response = client.get(export_url(reader, "bib"))
    text = response.content.decode()

    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"].endswith('.bib"')
    keys = re.findall(r"^@misc\{([^,]+),$", text, flags=re.M)
    assert keys == ["madukoma2026_2604.21953", "valko2026_2604.21956"]
    assert "  eprint = {2604.21953}," in text
    assert "  archivePrefix = {arXiv}," in text
    assert "  primaryClass = {cs.LG}," in text
    assert "  author = {Blessed Madukoma and Prasenjit Mitra}," in text
    assert (
        "  title = {{Performance Anomaly Detection in Athletics: "
        "A Benchmarking System with Visual Analytics}},"
    ) in text
    assert "abstract = {Anti-doping programs" in text
    assert balanced(text)


def balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_bibtex_keeps_latex_escapes_specials_and_never_lets_a_brace_end_the_entry():
    assert your_data.bibtex_text(r"$\alpha$-divergences for {GAN}s") == (
        r"$\alpha$-divergences for {GAN}s"
    )
    assert your_data.bibtex_text("Cats & dogs: 50% more #1") == r"Cats \& dogs: 50\% more \#1"
    assert your_data.bibtex_text(r"Already \& escaped") == r"Already \& escaped"
    assert your_data.bibtex_text("An } unbalanced { brace") == r"An \} unbalanced \{ brace"
    assert your_data.bibtex_text("Open { only") == r"Open \{ only"

    paper = Paper(
        canonical_id="2605.00001",
        title="Bad } title {",
        authors=["Zoë Ñandú"],
        abstract="100% }",
        first_seen=timezone.now(),
    )
    entry = your_data.bibtex_entry(paper, your_data.bibtex_key(paper, set()))
    assert entry.startswith(f"@misc{{nandu{timezone.now().year}_2605.00001,\n")
    assert balanced(entry)
    taken: set[str] = set()
    assert your_data.bibtex_key(paper, taken) != your_data.bibtex_key(paper, taken)


def test_the_csv_export_lists_the_papers_sent_safe_for_spreadsheets(client, reader):
    Paper.objects.filter(canonical_id="2604.21953").update(title="=HYPERLINK(evil)")

    response = client.get(export_url(reader, "csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0] == your_data.CSV_COLUMNS
    assert [row[2] for row in rows[1:]] == ["2604.21953", "2604.21956"]
    assert rows[1][3] == "'=HYPERLINK(evil)"
    assert rows[1][10] == "anomaly detection"
    assert rows[2][7] == "https://arxiv.org/abs/2604.21956"


def test_an_unknown_export_or_a_foreign_link_is_404(client, reader):
    assert client.get(export_url(reader, "xml")).status_code == 404
    foreign = reverse(
        "subscriptions:export", args=[tokens.make_token(tokens.UNSUBSCRIBE, reader.pk), "json"]
    )
    assert client.get(foreign).status_code == 404


def test_the_manage_page_links_the_exports(client, reader, time_machine):
    # A signed link carries its second: the page's and the test's are made in the same one.
    time_machine.move_to(timezone.now(), tick=False)
    page = client.get(manage_url(reader)).content.decode()

    for kind in ("json", "bib", "csv"):
        assert f'href="{export_url(reader, kind)}"' in page


def test_a_text_file_adds_its_interests(client, make_subscriber):
    subscriber = make_subscriber(interests=("anomaly detection",))

    response = upload(
        client, subscriber, b"\xef\xbb\xbfLLM agents\n\nANOMALY DETECTION\ncat:cs.LG\n"
    )

    assert response.status_code == 200
    assert "Imported: 2 new interests" in response.content.decode()
    assert [i.text for i in subscriber.interests.all()] == [
        "anomaly detection",
        "LLM agents",
        "cat:cs.LG",
    ]


def test_a_text_file_can_replace_the_interests(client, make_subscriber):
    subscriber = make_subscriber(interests=("anomaly detection",))

    upload(client, subscriber, b"quantum error correction\n", mode="replace")

    assert [i.text for i in subscriber.interests.all()] == ["quantum error correction"]


def test_a_bad_line_is_refused_by_its_number_and_nothing_changes(client, make_subscriber):
    subscriber = make_subscriber(interests=("anomaly detection",))

    response = upload(client, subscriber, b'LLM agents\n\n"never closed\ncat:cs.ML\n')

    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 3: This quote is never closed" in page
    assert "Line 4:" in page and "cat:stat.ML" in page  # the engine's suggestion
    assert [i.text for i in subscriber.interests.all()] == ["anomaly detection"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "The file is not UTF-8 text."),
        (b"\n\n", "Add at least one interest"),
        ("\n".join(f"topic number {n}" for n in range(31)).encode(), "At most 30 interests"),
        (b'{"hello": 1}', "This JSON file is not a Paperboy export."),
        (b'{"format": "paperboy-export"', "The file is not valid JSON"),
    ],
)
def test_files_that_cannot_be_imported_are_refused_with_why(
    client, make_subscriber, content, message
):
    subscriber = make_subscriber(interests=("anomaly detection",))

    response = upload(client, subscriber, content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert [i.text for i in subscriber.interests.all()] == ["anomaly detection"]


def test_adding_past_the_limit_is_refused(client, make_subscriber):
    subscriber = make_subscriber(interests=tuple(f"topic {n}" for n in range(25)))

    response = upload(client, subscriber, "\n".join(f"subject {n}" for n in range(6)).encode())

    assert response.status_code == 400
    assert "That would make 31 interests; at most 30" in response.content.decode()
    assert subscriber.interests.count() == 25


def test_imports_are_limited_per_hour(client, make_subscriber, settings):
    subscriber = make_subscriber()
    for _ in range(your_data.IMPORTS_PER_HOUR):
        assert upload(client, subscriber, b"LLM agents\n").status_code == 200

    assert upload(client, subscriber, b"LLM agents\n").status_code == 429


def test_a_file_too_large_is_refused_unread():
    with pytest.raises(your_data.ImportRefused, match="larger than 32 MB"):
        your_data.check_size(your_data.MAX_IMPORT_BYTES + 1)
    your_data.check_size(your_data.MAX_IMPORT_BYTES)


def test_no_file_is_refused(client, make_subscriber):
    subscriber = make_subscriber()

    response = client.post(manage_url(subscriber), {"action": "import"})

    assert response.status_code == 400
    assert "Choose a file." in response.content.decode()


def test_an_export_with_a_bad_setting_is_refused_naming_it(make_subscriber):
    subscriber = make_subscriber()
    export = your_data.export_data(subscriber)
    export["preferences"]["time_zone"] = "Mars/Olympus"
    export["interests"].append({"text": "fine"})
    export["interests"].append({"text": '"broken'})

    with pytest.raises(your_data.ImportRefused) as refused:
        your_data.import_file(subscriber, json.dumps(export).encode())
    assert refused.value.messages[0].startswith("Interest 3: This quote is never closed")

    export["interests"].pop()
    with pytest.raises(your_data.ImportRefused) as refused:
        your_data.import_file(subscriber, json.dumps(export).encode())
    assert refused.value.messages == [
        "Time zone: 'Mars/Olympus' is not a known time zone (try Europe/Paris or UTC)."
    ]


def test_export_then_import_into_a_fresh_database_gives_the_same_preferences_and_interests(
    client, reader, django_capture_on_commit_callbacks
):
    before = services.preferences_of(reader)
    exported = client.get(export_url(reader, "json")).content

    # Another Paperboy: nothing of this one's rows.
    Subscriber.objects.all().delete()
    Paper.objects.all().delete()
    assert not (Subscriber.objects.exists() or Interest.objects.exists())
    assert not Delivery.objects.exists()
    # A person signs up there with whatever, and confirms ...
    with django_capture_on_commit_callbacks(execute=True):
        services.sign_up(services.SignupRequest(email="ada@elsewhere.example", interests=["x"]))
    newcomer = Subscriber.objects.get()
    services.confirm(newcomer.pk, timezone.now().timestamp() + 1)
    newcomer.refresh_from_db()
    assert services.preferences_of(newcomer) != before

    # ... and brings their export in, from the manage page.
    response = upload(client, newcomer, exported, name="paperboy-export.json", mode="replace")

    assert response.status_code == 200, response.content.decode()
    assert "and the export's schedule" in response.content.decode()
    newcomer.refresh_from_db()
    assert services.preferences_of(newcomer) == before
    assert newcomer.email == "ada@elsewhere.example"  # never the export's address
    assert newcomer.signup_ip != "192.0.2.7"  # nor its consent record
    assert not Delivery.objects.filter(subscriber=newcomer, status="sent").exists()
    # Importing it again changes nothing.
    upload(client, newcomer, exported, name="paperboy-export.json")
    assert services.preferences_of(newcomer) == before


def test_importing_a_feed_only_export_gives_a_feed(make_subscriber):
    source = make_subscriber(frequency="feed")
    export = your_data.export_json(source)
    target = make_subscriber(email="new@example.com")

    your_data.import_file(target, export.encode(), replace_all=True)

    target.refresh_from_db()
    assert target.frequency == Subscriber.Frequency.FEED
    assert target.feed_token


def test_a_pause_that_ended_is_not_brought_back(make_subscriber):
    source = make_subscriber(paused_until=date(2020, 1, 1))
    target = make_subscriber(email="new@example.com")

    your_data.import_file(target, your_data.export_json(source).encode())

    target.refresh_from_db()
    assert target.paused_until is None


def test_exports_read_a_few_queries_however_many_digests(
    client, reader, django_assert_max_num_queries
):
    delivery = Delivery.objects.get(subscriber=reader)
    for n in range(30):
        Delivery.objects.create(
            subscriber=reader,
            period=f"x{n}",
            status=Delivery.Status.SENT,
            window_start=delivery.window_start - timedelta(days=n + 1),
            window_end=delivery.window_end - timedelta(days=n + 1),
            items=delivery.items,
        )
    ingest.upsert([PaperRecord(canonical_id="2605.99999", title="Unsent")])

    with django_assert_max_num_queries(8):
        data = json.loads(client.get(export_url(reader, "json")).content)
    with django_assert_max_num_queries(6):
        bib = client.get(export_url(reader, "bib")).content.decode()

    assert len(data["digests"]) == 31
    assert bib.count("@misc{") == 2  # each paper once
    assert "Unsent" not in bib
