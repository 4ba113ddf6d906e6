"""Source health, the pure part: schedules, feed timing and the state, time given."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.sources import arxiv_calendar, arxiv_rss
from digest.sources import health as h
from digest.sources.feed_timing import read_timing

FIXTURES = Path(__file__).parent.parent / "fixtures"
GRACE = timedelta(hours=9)  # the default: 6 h of grace and one 3-hour fetch interval


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def arxiv_state(last_change: str, now: str, schedule: h.Schedule = h.ARXIV_RSS) -> h.Health:
    return h.assess(
        schedule, last_success=utc(now), last_change=utc(last_change), now=utc(now), grace=GRACE
    )


# The recorded feed of Mon 27 Apr 2026 (Sunday's announcement), read that Monday.
def test_a_weekday_feed_with_its_announcement_in_is_fresh():
    state = arxiv_state("2026-04-27T10:00", "2026-04-27T15:00")
    assert (state.state, state.label) == ("fresh", "fresh")


def test_on_a_saturday_no_announcement_is_expected():
    # Thursday's announcement seen on Friday; Friday evening has none.
    state = arxiv_state("2026-04-24T10:00", "2026-04-25T12:00")
    assert (state.state, state.label) == ("quiet", "quiet (no announcement expected)")
    assert arxiv_state("2026-04-24T10:00", "2026-04-26T23:00").state == "quiet"  # Sunday evening


def test_on_an_arxiv_holiday_no_announcement_is_expected():
    # Thanksgiving, Thu 26 Nov 2026: no Thursday-evening announcement, so Friday is quiet.
    assert arxiv_calendar.date(2026, 11, 26) in arxiv_calendar.HOLIDAYS
    assert arxiv_state("2026-11-26T12:00", "2026-11-27T16:00").state == "quiet"
    # The Thursday before was no holiday: the same silence then is a stale feed.
    before = arxiv_state("2026-11-19T12:00", "2026-11-20T16:00")
    assert before.label == "stale since Thu 19 Nov 2026, 20:00 EST"


def test_a_feed_still_without_the_announcement_that_was_due_is_stale_since_it():
    state = arxiv_state("2026-04-27T10:00", "2026-04-29T14:00")
    assert state.state == "stale"
    assert state.since == datetime(2026, 4, 27, 20, tzinfo=arxiv_calendar.EASTERN)
    assert state.label == "stale since Mon 27 Apr 2026, 20:00 EDT"
    assert state.reason == "arXiv's announcement expected then has not come"


def test_an_announcement_is_not_missed_before_its_grace_is_over():
    # Monday's announcement shows in the feeds at midnight Eastern (04:00 UTC in April).
    assert arxiv_state("2026-04-27T10:00", "2026-04-28T12:59").state == "fresh"
    assert arxiv_state("2026-04-27T10:00", "2026-04-28T13:00").state == "stale"


def test_while_sundays_announcement_is_awaited_the_weekend_is_still_quiet():
    # Mon 27 Apr, 01:00 EDT: the feed has not been rebuilt with it yet, and that is no news.
    assert arxiv_state("2026-04-24T10:00", "2026-04-27T05:00").state == "quiet"
    assert arxiv_state("2026-04-24T10:00", "2026-04-27T13:00").state == "stale"


def test_an_arxiv_api_query_is_judged_by_whether_it_can_be_read_not_by_the_calendar():
    # A narrow query may rightly find nothing new after an announcement.
    query = h.schedule_for("arxiv_api", {})
    assert isinstance(query, h.FeedHints)
    read = utc("2026-04-27T10:00")
    state = h.assess(query, last_success=read, last_change=read, now=read + GRACE, grace=GRACE)
    assert state.state == "stale"
    assert h.schedule_for("arxiv_rss_legacy") is h.ARXIV_RSS


def test_announcement_times_follow_daylight_saving_time():
    winter = arxiv_calendar.announcement_at(arxiv_calendar.date(2026, 1, 5))
    summer = arxiv_calendar.announcement_at(arxiv_calendar.date(2026, 7, 6))
    assert (winter.astimezone(UTC).hour, summer.astimezone(UTC).hour) == (1, 0)


def test_the_holidays_are_the_ones_arxiv_published_for_2025_and_2026():
    by_year = {
        year: sorted(d for d in arxiv_calendar.HOLIDAYS if d.year == year)
        for year in (2025, 2026, 2027)
    }
    assert [d.isoformat() for d in by_year[2025]][:2] == ["2025-01-01", "2025-01-20"]
    assert len(by_year[2025]) == 8 and len(by_year[2026]) == 9 and by_year[2027] == []


def test_hugging_face_expects_a_daily_list_on_weekdays_only():
    def hf(last_change: str, now: str) -> str:
        return arxiv_state(last_change, now, h.HUGGING_FACE).state

    assert hf("2026-06-12T15:00", "2026-06-13T20:00") == "quiet"  # Saturday
    assert hf("2026-06-12T15:00", "2026-06-15T20:00") == "quiet"  # Monday's, within grace
    assert hf("2026-06-15T15:00", "2026-06-15T20:00") == "fresh"
    assert hf("2026-06-12T15:00", "2026-06-15T21:00") == "stale"


def test_a_source_never_read_is_not_known_yet():
    state = h.assess(
        h.ARXIV_RSS, last_success=None, last_change=None, now=utc("2026-04-27T10:00"), grace=GRACE
    )
    assert (state.state, state.label) == ("unknown", "not read yet")


def test_any_other_feed_is_stale_when_it_cannot_be_read_for_its_ttl_and_the_grace():
    hints = h.schedule_for("feed", {"ttl": 60 * 24})
    read = utc("2026-09-20T10:00")
    assert (
        h.assess(
            hints, last_success=read, last_change=read, now=read + timedelta(hours=32), grace=GRACE
        ).state
        == "fresh"
    )
    stale = h.assess(
        hints, last_success=read, last_change=read, now=read + timedelta(hours=33), grace=GRACE
    )
    assert (stale.state, stale.since) == ("stale", read)
    assert stale.reason == "not read successfully since then"


def test_any_other_feed_is_quiet_in_the_days_and_hours_it_skips():
    hints = h.schedule_for("feed", {"skip_days": [5, 6], "skip_hours": [3]})
    read = utc("2026-09-18T10:00")  # a Friday

    def at(now: str) -> str:
        return h.assess(hints, last_success=read, last_change=read, now=utc(now), grace=GRACE).label

    assert at("2026-09-18T12:00") == "fresh"
    assert at("2026-09-18T03:30") == "quiet (no update expected)"
    # Quiet on its skipped days, unless it could not be read for too long.
    assert at("2026-09-19T12:00") == "stale since Fri 18 Sep 2026, 10:00 UTC"


def test_the_timing_of_arxivs_recorded_feeds_is_read_from_the_channel():
    weekday = read_timing((FIXTURES / "arxiv-rss-2026-cs.LG.xml").read_bytes())
    assert weekday.built_at == utc("2026-04-27T04:00:01")
    # Both days: feedparser keeps only the last <day> of skipDays.
    assert weekday.skip_days == {5, 6}
    assert weekday.as_hints() == {"skip_days": [5, 6]}
    multi = read_timing((FIXTURES / "arxiv-rss-2026-multicat-cross-replace.xml").read_bytes())
    assert (multi.built_at, multi.skip_days) == (utc("2026-09-24T08:58:05"), {5, 6})
    atom = read_timing((FIXTURES / "arxiv-rss-atom-variant-2026-cs.LG.xml").read_bytes())
    assert atom.built_at == datetime(2026, 9, 25, 4, 0, 11, 600500, tzinfo=UTC)


def test_ttl_skip_hours_and_other_formats_dates_are_read_and_odd_input_says_nothing():
    rss = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        b"<pubDate>Fri, 18 Sep 2026 10:00:00 GMT</pubDate><ttl>120</ttl>"
        b"<skipHours><hour>0</hour><hour>24</hour><hour>7</hour></skipHours>"
        b"<item><title>i</title><pubDate>Sat, 01 Jan 2000 00:00:00 GMT</pubDate></item>"
        b"</channel></rss>"
    )
    timing = read_timing(rss)
    assert (timing.built_at, timing.ttl_minutes, timing.skip_hours) == (
        utc("2026-09-18T10:00"),
        120,
        {0, 7},
    )
    legacy = read_timing((FIXTURES / "arxiv-rss1-legacy-2018-hep-ex.xml").read_bytes())
    assert legacy.built_at is not None and legacy.built_at.year == 2018
    assert read_timing((FIXTURES / "hf-daily-papers-api.json").read_bytes()) == read_timing(b"")
    doctype = b'<!DOCTYPE rss [<!ENTITY a "b">]><rss><channel><ttl>5</ttl></channel></rss>'
    assert read_timing(doctype).ttl_minutes is None
    assert read_timing(b"<rss><channel><ttl>5</ttl>").ttl_minutes is None  # cut off


def test_arxiv_serving_yesterdays_batch_under_a_new_build_date_is_no_change():
    records = arxiv_rss.parse((FIXTURES / "arxiv-rss-2026-cs.LG.xml").read_bytes())
    key = h.entries_key(records)
    assert key and key == h.entries_key(list(reversed(records)))
    monday, wednesday = utc("2026-04-27T04:00"), utc("2026-04-29T04:00")
    same = {"old_key": key, "new_key": key, "old_built": monday, "new_built": wednesday}
    assert not h.changed("arxiv_rss", **same)
    assert h.changed("feed", **same)  # elsewhere a new build date is news
    # An empty feed built anew is what a category with nothing announced looks like.
    assert h.changed("arxiv_rss", old_key=key, new_key="", old_built=monday, new_built=wednesday)
    assert not h.changed("arxiv_rss", old_key=key, new_key="", old_built=monday, new_built=monday)
    assert h.changed(
        "arxiv_rss", old_key=key, new_key=h.entries_key(records[:1]), old_built=None, new_built=None
    )


@pytest.mark.parametrize(
    ("changed_at", "phrase"),
    [
        ("2026-04-30T08:00", "earlier today"),
        ("2026-04-29T08:00", "yesterday"),
        ("2026-04-28T08:00", "Tuesday"),
        ("2026-04-20T08:00", "20 April"),
        ("2025-12-20T08:00", "20 December 2025"),
    ],
)
def test_a_digest_says_since_when_in_words(changed_at, phrase):
    assert h.since_phrase(utc(changed_at), utc("2026-04-30T12:00"), UTC) == phrase


def test_the_digests_line_names_each_stale_source_once_in_one_sentence():
    now = utc("2026-04-30T12:00")
    one = h.stale_note([("arXiv cs.LG", utc("2026-04-28T10:00"))], now, UTC)
    assert one == "arXiv cs.LG has not updated since Tuesday; this digest may be short."
    two = h.stale_note(
        [
            ("arXiv cs.LG", utc("2026-04-28T10:00")),
            ("arXiv cs.CL", utc("2026-04-28T11:00")),
            ("arXiv cs.AI", utc("2026-04-27T10:00")),
        ],
        now,
        UTC,
    )
    assert two == (
        "arXiv cs.CL and arXiv cs.LG have not updated since Tuesday, arXiv cs.AI since Monday; "
        "this digest may be short."
    )
    assert h.stale_note([], now, UTC) == ""
