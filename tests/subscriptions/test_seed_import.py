"""Papers like these from a reference library (issue 15, part 3): a BibTeX file or a
Zotero CSV export, read for its arXiv ids (subscriptions/imports.py, pure), added as
like: lines through the manage page's upload, in one step. Recorded Zotero exports
(tests/fixtures/zotero-export-2026.bib, .csv); arXiv is a local HTTP server."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from digest.models import Paper
from digest.sources import arxiv_api
from subscriptions import imports, seed_import, tokens
from subscriptions.models import Subscriber
from tests.support import Route, serve

BIBTEX_IDS = ["1706.03762", "2006.11239", "2010.11929", "hep-th/9711200", "2606.13677"]
CSV_IDS = ["1706.03762", "2006.11239", "2010.11929"]


def test_a_zotero_bibtex_export_gives_each_arxiv_paper_once(fixture_bytes):
    library = imports.read_library(fixture_bytes("zotero-export-2026.bib"))

    assert library.kind == "BibTeX"
    assert library.entries == 8
    # url / note, eprint + archivePrefix, journal = {arXiv preprint arXiv:…}, an old id,
    # the doi; the second Attention entry (a pdf link, v1) is the same paper.
    assert library.ids == BIBTEX_IDS
    assert library.without == ["Deep learning", "Reinforcement learning: an introduction"]


def test_a_zotero_csv_export_gives_each_arxiv_paper_once(fixture_bytes):
    library = imports.read_library(fixture_bytes("zotero-export-2026.csv"))

    assert library.kind == "Zotero CSV"
    assert library.entries == 5
    # Url, Extra ("arXiv: 2006.11239"), DOI (10.48550/arXiv.2010.11929).
    assert library.ids == CSV_IDS
    assert library.without == ["Deep learning", "Reinforcement learning: an introduction"]


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("@article{a, eprint = {2403.12345v2}, archivePrefix = {arXiv}}", "2403.12345"),
        ("@misc{a, eprint = {2403.12345}, eprinttype = {arxiv}}", "2403.12345"),
        ('@misc{a, title = "T", eprint = "hep-th/9901001"}', "hep-th/9901001"),
        ("@misc{a, doi = {10.48550/arXiv.2403.12345}}", "2403.12345"),
        ("@misc{a, url = {https://arxiv.org/abs/2403.12345v3}}", "2403.12345"),
        ("@misc{a, howpublished = {\\url{https://arxiv.org/abs/2403.12345}}}", "2403.12345"),
        ("@article{a, journal = {arXiv preprint arXiv:2403.12345}}", "2403.12345"),
        (
            "@article(a, journal = {CoRR}, volume = {abs/2403.12345}, eprint = {2403.12345})",
            "2403.12345",
        ),
        ('@misc{a, note = "arXiv: " # "2403.12345", month = aug}', "2403.12345"),
    ],
)
def test_each_place_a_bibtex_entry_names_its_arxiv_paper(entry, canonical):
    assert imports.read_library(entry.encode()).ids == [canonical]


@pytest.mark.parametrize(
    "entry",
    [
        "@misc{a, eprint = {2403.12345}, archivePrefix = {bioRxiv}}",
        "@misc{a, url = {https://evil.example/?ref=arxiv.org/abs/2403.12345x}}",
        "@comment{url = {https://arxiv.org/abs/2403.12345}} @misc{b, title = {T}}",
    ],
)
def test_entries_that_name_no_arxiv_paper_give_none(entry):
    assert imports.read_library(entry.encode()).ids == []


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
        ("caf\xe9".encode("latin-1") + b" @misc{a,}", "not UTF-8"),
        (b"just some words\nLLM\n", "neither BibTeX"),
        (b"@article{a, title = {never closed", "never closed"),
        (b"name,email\nada,ada@example.com\n", "neither BibTeX"),
        (b'"Key","Item Type","Title","Url"\n"A","preprint","T","x\n', "cannot be read"),
    ],
)
def test_a_file_that_is_no_library_is_refused_saying_why(data, says):
    with pytest.raises(imports.LibraryError, match=says):
        imports.read_library(data)


# Through the manage page


pytestmark_db = pytest.mark.django_db


def manage_url(subscriber: Subscriber) -> str:
    return reverse("subscriptions:manage", args=[tokens.make_token(tokens.MANAGE, subscriber.pk)])


def upload(client, subscriber, name: str, data: bytes):
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(manage_url(subscriber), {"action": "import_seeds", "file": file})


def store(*ids: str) -> None:
    for canonical in ids:
        Paper.objects.create(canonical_id=canonical, title=f"Paper {canonical}")


@pytest.fixture
def arxiv(settings, fixture_bytes):
    """arXiv's API on 127.0.0.1, answering the id_list of 2606.13677 with its one paper
    and that of 2606.99999 with none."""
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    with serve() as server:
        settings.ARXIV_API_URL = f"{server.base}/api/query"
        for canonical, name in [("2606.13677", "one"), ("2606.99999", "none")]:
            url = arxiv_api.id_list_url(settings.ARXIV_API_URL, [canonical])
            server.url(
                url.removeprefix(server.base),
                Route(body=fixture_bytes(f"arxiv-api-atom-id-list-{name}.xml")),
            )
        yield server


def lines_of(subscriber: Subscriber) -> list[str]:
    return list(subscriber.interests.values_list("text", flat=True))


@pytestmark_db
def test_a_bibtex_upload_adds_its_papers_as_like_lines(
    client, make_subscriber, fixture_bytes, arxiv
):
    store("1706.03762", "2006.11239", "2010.11929", "hep-th/9711200")
    subscriber = make_subscriber(interests=("LLM", "like:1706.03762"))

    response = upload(client, subscriber, "My Library.bib", fixture_bytes("zotero-export-2026.bib"))

    page = response.content.decode()
    assert response.status_code == 200
    assert lines_of(subscriber) == [
        "LLM",
        "like:1706.03762",
        "like:2006.11239",
        "like:2010.11929",
        "like:hep-th/9711200",
        "like:2606.13677",
    ]
    # The one paper Paperboy did not know came from arXiv, and is stored.
    assert Paper.objects.get(canonical_id="2606.13677").title.startswith("Mana:")
    assert len(arxiv.requests) == 1
    assert "Added 4 papers of your BibTeX file (8 entries) as <code>like:</code> lines" in page
    assert "1 you follow already" in page
    assert "2 entries name no arXiv paper: Deep learning · Reinforcement learning" in page
    # The manage page lists them with their titles, and the textarea has them.
    assert '<a href="https://arxiv.org/abs/2606.13677">Mana: Dexterous' in page
    assert "like:hep-th/9711200\nlike:2606.13677</textarea>" in page


@pytestmark_db
def test_a_zotero_csv_upload_adds_its_papers_as_like_lines(client, make_subscriber, fixture_bytes):
    store(*CSV_IDS)
    subscriber = make_subscriber(interests=("LLM",))

    response = upload(
        client, subscriber, "Exported Items.csv", fixture_bytes("zotero-export-2026.csv")
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert lines_of(subscriber) == ["LLM"] + [f"like:{canonical}" for canonical in CSV_IDS]
    assert "Added 3 papers of your Zotero CSV file (5 entries)" in page
    assert "Paper 2006.11239</a>" in page


@pytestmark_db
@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x00\x01garbage\xff\xfe" * 100, "The file is not text"),
        (b"@misc{a, title = {No arXiv here}}", "names an arXiv paper"),
        (b"@article{a, title = {oops", "never closed"),
        (b"\xff\xfe\xfd not utf-8", "not UTF-8"),
    ],
)
def test_a_garbage_upload_is_refused_and_nothing_changes(client, make_subscriber, data, says):
    subscriber = make_subscriber(interests=("LLM",))

    response = upload(client, subscriber, "library.bib", data)

    assert response.status_code == 400
    assert says in response.content.decode()
    assert lines_of(subscriber) == ["LLM"]


@pytestmark_db
def test_arxiv_out_of_reach_refuses_the_upload_and_nothing_changes(
    client, make_subscriber, fixture_bytes, settings
):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    with serve() as server:
        settings.ARXIV_API_URL = f"{server.base}/api/query"  # closed below: nothing listens
    subscriber = make_subscriber(interests=("LLM",))

    response = upload(client, subscriber, "library.bib", fixture_bytes("zotero-export-2026.bib"))

    assert response.status_code == 400
    assert "arXiv could not be reached; try again later." in response.content.decode()
    assert lines_of(subscriber) == ["LLM"]


@pytestmark_db
def test_too_many_papers_or_too_big_a_file_are_refused(client, make_subscriber, settings):
    subscriber = make_subscriber(interests=("LLM",))
    many = "".join(f"@misc{{e{n}, eprint = {{2403.{n:05d}}}}}\n" for n in range(101)).encode()

    too_many = upload(client, subscriber, "many.bib", many)
    too_big = upload(client, subscriber, "big.bib", b" " * (seed_import.MAX_LIBRARY_BYTES + 1))

    assert too_many.status_code == 400
    assert "at most 100 like: lines" in too_many.content.decode()
    assert too_big.status_code == 400
    assert "larger than 5 MB" in too_big.content.decode()
    assert lines_of(subscriber) == ["LLM"]


@pytestmark_db
def test_the_upload_needs_the_signed_manage_link(client, make_subscriber, fixture_bytes):
    subscriber = make_subscriber(interests=("LLM",))
    file = SimpleUploadedFile("library.csv", fixture_bytes("zotero-export-2026.csv"))

    response = client.post(
        reverse("subscriptions:manage", args=["forged"]), {"action": "import_seeds", "file": file}
    )

    assert response.status_code == 400
    assert lines_of(subscriber) == ["LLM"]


@pytestmark_db
def test_a_text_import_checks_its_like_lines_too(client, make_subscriber, arxiv):
    subscriber = make_subscriber(interests=("LLM",))
    file = SimpleUploadedFile("interests.txt", b"like:2606.99999\nrobotics\n")

    response = client.post(manage_url(subscriber), {"action": "import", "file": file})

    assert response.status_code == 400
    assert "arXiv has no paper 2606.99999." in response.content.decode()
    assert lines_of(subscriber) == ["LLM"]


@pytestmark_db
def test_ids_arxiv_has_no_paper_for_are_named_and_the_others_added(client, make_subscriber, arxiv):
    store("1706.03762")
    subscriber = make_subscriber(interests=("LLM",))
    bibtex = (
        b"@misc{a, title = {Attention}, eprint = {1706.03762}, archivePrefix = {arXiv}}\n"
        b"@misc{b, title = {A typo}, eprint = {2606.99999}, archivePrefix = {arXiv}}\n"
    )

    response = upload(client, subscriber, "library.bib", bibtex)

    page = response.content.decode()
    assert response.status_code == 200
    assert lines_of(subscriber) == ["LLM", "like:1706.03762"]
    assert "Added 1 paper of your BibTeX file (2 entries)" in page
    assert "arXiv has no paper 2606.99999." in page
