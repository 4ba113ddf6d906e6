"""The live preview on a warm index (digest/recent.py): no query while the index was
checked less than RECHECK_SECONDS ago, the same answers as a cold one, a new paper
once that time has passed, and at once for a caller inside a transaction."""

import gc
import logging
import os
import threading

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.urls import reverse

from digest import heap, recent
from digest.models import Paper

# Committed for real: outside a transaction is where the index may skip its check.
pytestmark = pytest.mark.django_db(transaction=True)

URL = reverse("subscriptions:preview_matches")
NEW = "quasicrystal lattices"


@pytest.fixture(autouse=True)
def _cold_index():
    recent._cached.update(key=None, checked=None)
    yield
    recent._cached.update(key=None, checked=None)


def _add_paper() -> None:
    Paper.objects.create(
        canonical_id="2612.00001",
        title="Sparse quasicrystal lattices for graph learning",
        abstract="We grow quasicrystal lattices.",
        categories=["cs.LG"],
        abs_url="https://arxiv.org/abs/2612.00001",
    )


def _total(interest: str) -> int:
    return recent.recent_matches([interest]).total


def test_a_warm_preview_asks_the_database_nothing_and_answers_the_same(
    ingested_papers, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 3600)
    visitor = Client()
    text = {"interests": "anomaly detection\nreinforcment learning"}
    cold = visitor.get(URL, text)

    with django_assert_num_queries(0):
        warm_get = visitor.get(URL, text)
        warm_post = visitor.post(URL, text)

    assert cold.status_code == warm_get.status_code == warm_post.status_code == 200
    assert cold.json() == warm_get.json() == warm_post.json()
    assert cold.json()["papers"][0]["url"].startswith("https://arxiv.org/abs/")


def test_a_new_paper_shows_once_the_recheck_time_has_passed(ingested_papers, monkeypatch):
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 3600)
    assert _total(NEW) == 0
    _add_paper()

    assert _total(NEW) == 0  # checked less than RECHECK_SECONDS ago: the index as it was
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 0)
    found = recent.recent_matches([NEW])
    assert found.total == 1
    assert found.papers[0].url == "https://arxiv.org/abs/2612.00001"


def test_inside_a_transaction_a_new_paper_shows_at_once(ingested_papers, monkeypatch):
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 3600)
    assert _total(NEW) == 0

    with pytest.raises(RuntimeError), transaction.atomic():
        _add_paper()
        assert _total(NEW) == 1
        raise RuntimeError("rolled back")

    # The index built inside the transaction is checked again outside it: the paper
    # was never committed.
    assert _total(NEW) == 0


def test_a_paper_another_process_commits_shows_within_the_recheck_interval(ingested_papers):
    assert _total(NEW) == 0  # warm, checked just now
    # Another process's ingest: its own connection (a thread has one), committed.
    writer = threading.Thread(target=lambda: (_add_paper(), connection.close()))
    writer.start()
    writer.join()

    assert _total(NEW) == 0  # checked less than RECHECK_SECONDS ago: not asked again
    recent._cached["checked"] -= recent.RECHECK_SECONDS  # that long later
    assert _total(NEW) == 1


def test_the_index_is_built_again_when_the_papers_change_not_per_preview(
    ingested_papers, monkeypatch
):
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 0)  # every preview asks the database
    first = recent.recent_index()
    assert recent.recent_matches(["anomaly detection"]).total >= 1

    assert recent.recent_index() is first  # checked again: the same papers, the same index
    _add_paper()
    assert recent.recent_index() is not first
    assert _total(NEW) == 1


def _in_collector_reach(thing: object) -> bool:
    return any(o is thing for o in gc.get_objects())


@pytest.fixture
def _unfrozen_after():
    yield
    heap.forget_freeze()


def test_a_big_index_is_kept_out_of_the_collectors_passes_until_built_again(
    ingested_papers, monkeypatch, _unfrozen_after
):
    """Frozen (gc.freeze), a full pass of the cycle collector never walks the index's
    objects again: the pause it made every few thousand previews. The next build thaws
    what the last one froze, so a dropped index can be collected."""
    monkeypatch.setattr(recent, "FREEZE_FROM", 1)  # three papers count as a big index here
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 0)
    first = recent.recent_index()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert not _in_collector_reach(first)
    assert not _in_collector_reach(recent._cached["spelling"])

    monkeypatch.setattr(recent, "FREEZE_FROM", 10**6)  # and the next one a small one
    _add_paper()
    second = recent.recent_index()
    assert second is not first
    assert gc.get_freeze_count() == 0
    assert _in_collector_reach(second)


def test_a_small_index_leaves_what_the_process_froze_itself_frozen(
    ingested_papers, _unfrozen_after
):
    held = {"loaded": ["at start-up"]}
    gc.freeze()  # as config/wsgi.py does once loaded
    recent.recent_index()

    assert len(recent.recent_index().ids) < recent.FREEZE_FROM
    assert not _in_collector_reach(held)


def test_an_index_built_in_the_background_serves_the_first_preview_without_a_query(
    ingested_papers, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 3600)
    recent.build_in_background().join()

    with django_assert_num_queries(0):
        found = recent.recent_matches(["anomaly detection"])
    assert found.total >= 1


def test_a_background_build_that_fails_is_logged_and_left_to_the_first_preview(
    ingested_papers, monkeypatch, caplog
):
    """A worker that starts before the database is ready (not migrated yet) says so in
    its log, without a thread's traceback on stderr; its first preview builds the index."""
    monkeypatch.setattr(recent, "RECHECK_SECONDS", 3600)
    monkeypatch.setitem(recent._cached, "key", None)
    real = recent.recent_index

    def unready() -> None:
        raise OperationalError('relation "digest_paper" does not exist')

    monkeypatch.setattr(recent, "recent_index", unready)
    with caplog.at_level(logging.WARNING, logger="digest.recent"):
        recent.build_in_background().join()
    assert "The preview's index was not built at start" in caplog.text
    assert recent._cached["key"] is None

    monkeypatch.setattr(recent, "recent_index", real)
    assert recent.recent_matches(["anomaly detection"]).total >= 1


def test_a_process_forked_during_a_build_has_the_lock_free_and_the_collector_running():
    """As gunicorn --preload forks its workers from a master whose build thread runs."""
    building, done = threading.Event(), threading.Event()

    def build() -> None:  # what a big build holds while it runs
        with recent._lock:
            recent._building.set()
            gc.disable()
            building.set()
            done.wait(10)
            gc.enable()
            recent._building.clear()

    thread = threading.Thread(target=build)
    thread.start()
    building.wait(10)
    try:
        child = os.fork()
        if child == 0:  # the child: no build thread
            free = recent._lock.acquire(timeout=2)
            os._exit(0 if free and gc.isenabled() else 1)
        _, status = os.waitpid(child, 0)
    finally:
        done.set()
        thread.join()

    assert os.waitstatus_to_exitcode(status) == 0
