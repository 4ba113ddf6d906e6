"""The Hugging Face parsers: the daily papers JSON API and the papers HTML page, on
answers recorded from huggingface.co (2026 API, 2024 page) and small hand-made ones."""

import html
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest.sources import hf_daily, hf_page
from digest.sources.records import FeedError, PaperRecord

FIXTURES = Path(__file__).parents[1] / "fixtures"

API = "hf-daily-papers-api.json"
PAGE = "hf-papers-page-2024-08-01.html"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_id(records: list[PaperRecord]) -> dict[str, PaperRecord]:
    return {record.canonical_id: record for record in records}


def item(
    paper_id: str = "2604.99999",
    title: str = "A Title",
    summary: str = "An abstract.",
    authors: tuple[str, ...] = ("Ada Lovelace",),
    **top: object,
) -> dict:
    paper = {
        "id": paper_id,
        "authors": [
            {"_id": f"a{n}", "name": name, "hidden": False} for n, name in enumerate(authors)
        ],
        "publishedAt": "2026-04-27T00:00:00.000Z",
        "title": title,
        "summary": summary,
        "upvotes": 7,
    }
    return {"paper": paper, "title": title, "summary": summary, "numComments": 1, **top}


def api_of(*items: dict) -> bytes:
    return json.dumps(list(items), ensure_ascii=False).encode()


def page_of(*items: dict, extra: str = "") -> bytes:
    # Escaped the way Hugging Face does it: compact JSON, then & and " as entities.
    props = json.dumps({"date": "2026-04-27", "dailyPapers": list(items)}, separators=(",", ":"))
    return f"""<!doctype html><html><head><title>Daily Papers - Hugging Face</title></head>
<body class="DailyPapersPage"><main>
<div class="SVELTE_HYDRATER contents" data-target="MainHeader" data-props="{{}}"></div>
<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{html.escape(props)}">
{extra}</div></main></body></html>""".encode()


def card(paper_id: str, title: str, upvotes: str) -> str:
    return f"""<article class="relative flex flex-col overflow-hidden rounded-xl border">
<a href="/papers/{paper_id}"><img src="https://cdn-thumbnails.huggingface.co/x.png"></a>
<div class="text-xs leading-none text-gray-700">Submitted by <img src="a.png"> someone</div>
<div class="flex"><a href="/login?next=%2Fpapers%2F{paper_id}"><div class="shadow-alternate">
<input type="checkbox" class="peer hidden" disabled><div class="leading-none">{upvotes}</div>
</div></a><div class="w-full"><h3 class="mb-1"><a href="/papers/{paper_id}">
{title}</a></h3><a href="/papers/{paper_id}#community">3</a></div></div></article>"""


# --- the API, recorded ---


def test_it_reads_every_item_of_the_recorded_api_answer():
    records = hf_daily.parse(read(API))

    assert [record.canonical_id for record in records] == [
        "2606.00467",
        "2606.12730",
        "2606.11409",
        "2606.11662",
        "2606.09446",
        "2606.13392",
        "2606.13106",
    ]
    assert [record.upvotes for record in records] == [0, 5, 8, 10, 1, 103, 18]
    assert [record.comments for record in records] == [2, 3, 3, 3, 2, 4, 2]


def test_it_reads_every_field_of_an_api_item():
    paper = by_id(hf_daily.parse(read(API)))["2606.13392"]

    assert paper.title == "MiniMax Sparse Attention"
    assert paper.authors[:3] == ["Xunhao Lai", "Weiqi Xu", "Yufeng Yang"]
    assert len(paper.authors) == 11
    assert paper.abstract.startswith("Ultra-long-context capability is becoming")
    assert paper.published == datetime(2026, 6, 11, tzinfo=UTC)
    assert paper.abs_url == "https://arxiv.org/abs/2606.13392"
    assert paper.pdf_url == "https://arxiv.org/pdf/2606.13392"
    assert paper.hf_url == "https://huggingface.co/papers/2606.13392"
    assert (paper.upvotes, paper.comments) == (103, 4)
    assert (paper.categories, paper.announce_type, paper.version) == ([], "", None)


def test_zero_upvotes_stay_zero_not_none():
    paper = by_id(hf_daily.parse(read(API)))["2606.00467"]

    assert paper.upvotes == 0


def test_unicode_author_names_are_kept():
    paper = by_id(hf_daily.parse(read(API)))["2606.09446"]

    assert paper.authors[:2] == ["Malamatenia Vlachou Efstathiou", "Raphaël Baena"]
    assert "Boglárka Ecsedi" in by_id(hf_daily.parse(read(API)))["2606.11409"].authors


def test_angle_brackets_in_a_summary_are_text_not_tags():
    paper = by_id(hf_daily.parse(read(API)))["2606.13106"]

    assert "The model emits <swi> to enter latent mode and </swi> to exit." in paper.abstract


def test_raw_newlines_in_a_summary_are_folded():
    paper = by_id(hf_daily.parse(read(API)))["2606.09446"]

    assert "\n" not in paper.abstract
    assert "deformation, and positioning. Our contributions are twofold." in paper.abstract


# --- the API, hand-made ---


def test_an_empty_list_is_a_day_without_papers():
    assert hf_daily.parse(b"[]") == []
    assert hf_daily.parse(b"  []\n") == []


def test_an_error_object_is_a_feed_error_naming_the_error():
    with pytest.raises(FeedError, match="Invalid date"):
        hf_daily.parse(b'{"error": "Invalid date"}')


def test_another_object_is_a_feed_error():
    with pytest.raises(FeedError, match="expected a list of papers, got an object"):
        hf_daily.parse(b'{"papers": []}')


def test_truncated_json_is_a_feed_error_with_the_position():
    # A download cut just before the closing "]": every item is whole, the list is not.
    truncated = read(API).rstrip()[:-1]
    end = len(truncated.decode())  # json counts characters, not bytes

    with pytest.raises(FeedError, match=rf"not Hugging Face daily papers JSON: .*\(char {end}\)"):
        hf_daily.parse(truncated)

    with pytest.raises(FeedError, match="not Hugging Face daily papers JSON: Unterminated string"):
        hf_daily.parse(read(API)[:5000])


def test_an_empty_body_is_a_feed_error():
    with pytest.raises(FeedError, match="empty response"):
        hf_daily.parse(b"  \n")


def test_an_html_page_given_to_the_api_parser_is_a_feed_error():
    with pytest.raises(FeedError, match=r"got an HTML page$"):
        hf_daily.parse(read(PAGE))


def test_odd_items_are_skipped_or_read_without_raising():
    no_id = item(paper_id="")
    no_title = item(title="")
    broken = {"paper": {"id": "2604.00001", "title": "Odd", "authors": "nobody", "upvotes": "5"}}

    records = hf_daily.parse(api_of(no_id, no_title, 42, {"paper": None}, broken))

    assert records == [
        PaperRecord(
            canonical_id="2604.00001",
            title="Odd",
            abs_url="https://arxiv.org/abs/2604.00001",
            pdf_url="https://arxiv.org/pdf/2604.00001",
            hf_url="https://huggingface.co/papers/2604.00001",
        )
    ]


def test_a_paper_without_an_arxiv_id_is_keyed_on_its_hf_id():
    (paper,) = hf_daily.parse(api_of(item(paper_id="some-org-report")))

    assert paper.canonical_id == "hf:some-org-report"
    assert paper.abs_url == paper.hf_url == "https://huggingface.co/papers/some-org-report"
    assert paper.pdf_url == ""


def test_the_top_level_summary_stands_in_for_a_missing_paper_summary():
    entry = item(summary="")
    entry["summary"] = "From the list, not the paper."

    (paper,) = hf_daily.parse(api_of(entry))

    assert paper.abstract == "From the list, not the paper."


def test_an_unreadable_date_is_none():
    entry = item()
    entry["paper"]["publishedAt"] = "last Tuesday"

    (paper,) = hf_daily.parse(api_of(entry))

    assert paper.published is None


def test_a_str_is_a_callers_bug():
    with pytest.raises(TypeError):
        hf_daily.parse("[]")  # type: ignore[arg-type]


def test_daily_url_replaces_an_existing_date():
    url = "https://huggingface.co/api/daily_papers?date=2024-01-01&limit=100"

    assert hf_daily.daily_url(url, date(2024, 8, 1)) == (
        "https://huggingface.co/api/daily_papers?date=2024-08-01&limit=100"
    )


def test_daily_url_adds_a_missing_date():
    url = "https://huggingface.co/api/daily_papers?limit=50"

    assert hf_daily.daily_url(url, datetime(2024, 8, 1, 12, 30)) == (
        "https://huggingface.co/api/daily_papers?limit=50&date=2024-08-01"
    )


# --- the page ---


def test_it_reads_the_papers_of_the_recorded_page():
    records = hf_page.parse(read(PAGE))

    assert [record.canonical_id for record in records] == ["2407.21783", "2407.21705", "2407.21770"]
    assert [(record.upvotes, record.comments) for record in records] == [(94, 5), (24, 2), (19, 5)]


def test_the_llama_3_paper_keeps_its_533_authors():
    paper = by_id(hf_page.parse(read(PAGE)))["2407.21783"]

    assert paper.title == "The Llama 3 Herd of Models"
    assert len(paper.authors) == 533
    assert paper.authors[:2] == ["Abhimanyu Dubey", "Abhinav Jauhri"]
    assert paper.abstract.startswith("Modern artificial intelligence (AI) systems are powered")
    assert paper.published == datetime(2024, 7, 31, 17, 54, 27, tzinfo=UTC)
    assert paper.hf_url == "https://huggingface.co/papers/2407.21783"


def test_page_and_api_give_equal_records_for_the_same_item():
    entry = item(
        title='Q&A on "quotes" & <swi> tokens',
        summary="Uses $a<b$ &amp; <swi> to switch.\nSecond line.",
        authors=("Raphaël Baena", "O'Neil"),
    )

    from_api = hf_daily.parse(api_of(entry))
    from_page = hf_page.parse(page_of(entry))

    assert from_page == from_api
    assert from_page[0].title == 'Q&A on "quotes" & <swi> tokens'
    assert from_page[0].abstract == "Uses $a<b$ & <swi> to switch. Second line."


def test_the_recorded_page_items_read_the_same_through_the_api_parser():
    # Unescaped by hand, as the README says browsers do: html.unescape, then JSON.
    found = re.search(rb'data-target="DailyPapers" data-props="([^"]*)"', read(PAGE))
    assert found is not None
    props = json.loads(html.unescape(found.group(1).decode()))

    from_api = hf_daily.parse(json.dumps(props["dailyPapers"]).encode())

    assert len(from_api) == 3
    assert hf_page.parse(read(PAGE)) == from_api


def test_a_page_with_an_empty_list_is_a_day_without_papers():
    assert hf_page.parse(page_of()) == []


def test_without_props_the_cards_give_id_title_and_upvotes():
    page = f"""<!doctype html><html><body><main><div class="grid"><div>
{card("2407.21783", "The Llama 3 Herd of Models", "94")}
{card("2407.21705", "Tora: Trajectory-oriented Diffusion Transformer", "0")}
</div></div></main></body></html>""".encode()

    records = hf_page.parse(page)

    assert records == [
        PaperRecord(
            canonical_id="2407.21783",
            title="The Llama 3 Herd of Models",
            abs_url="https://arxiv.org/abs/2407.21783",
            pdf_url="https://arxiv.org/pdf/2407.21783",
            upvotes=94,
            hf_url="https://huggingface.co/papers/2407.21783",
        ),
        PaperRecord(
            canonical_id="2407.21705",
            title="Tora: Trajectory-oriented Diffusion Transformer",
            abs_url="https://arxiv.org/abs/2407.21705",
            pdf_url="https://arxiv.org/pdf/2407.21705",
            upvotes=0,
            hf_url="https://huggingface.co/papers/2407.21705",
        ),
    ]


def test_the_recorded_cards_match_the_recorded_props():
    # The recorded page without its DailyPapers island: only the cards are left.
    page = read(PAGE).replace(b'data-target="DailyPapers"', b'data-target="Gone"')

    records = hf_page.parse(page)

    from_props = hf_page.parse(read(PAGE))
    assert [(r.canonical_id, r.title, r.upvotes) for r in records] == [
        (r.canonical_id, r.title, r.upvotes) for r in from_props
    ]
    assert all(record.authors == [] and record.abstract == "" for record in records)


def test_a_page_without_props_or_cards_is_a_feed_error_without_its_title():
    page = b"<!doctype html><html><head><title>Sign in</title></head><body></body></html>"

    with pytest.raises(FeedError, match=r"no DailyPapers data and no paper cards$"):
        hf_page.parse(page)


def test_broken_props_without_cards_is_a_feed_error():
    page = page_of(item()).replace(b"dailyPapers", b"dailyPapers&quot;:[{")

    with pytest.raises(FeedError, match="data-props is not JSON"):
        hf_page.parse(page)


def test_json_given_to_the_page_parser_is_a_feed_error():
    with pytest.raises(FeedError, match="got JSON"):
        hf_page.parse(read(API))


def test_an_empty_body_is_not_a_page():
    with pytest.raises(FeedError, match="empty response"):
        hf_page.parse(b"")


def test_day_url_gives_the_day_page_whatever_the_source_url():
    day = date(2024, 8, 1)

    assert hf_page.day_url("https://huggingface.co/papers?date=2024-07-01", day) == (
        "https://huggingface.co/papers/date/2024-08-01"
    )
    assert hf_page.day_url("https://huggingface.co/papers/date/2024-07-01", day) == (
        "https://huggingface.co/papers/date/2024-08-01"
    )
    assert hf_page.day_url("https://huggingface.co/papers/week/2024-W31", day) == (
        "https://huggingface.co/papers/date/2024-08-01"
    )
