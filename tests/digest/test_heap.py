"""The cycle collector's thresholds while a sender's chunk goes out (digest/heap.py):
raised inside, as they were once the last chunk using them is done, whatever nests,
runs beside it on another thread or fails."""

import gc
import threading

import pytest

from digest import heap


@pytest.fixture(autouse=True)
def _default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_young_pass_comes_less_often_inside_and_as_before_after():
    with heap.fewer_passes():
        assert gc.get_threshold() == (heap.SENDING_YOUNG_THRESHOLD, 10, 10)
        with heap.fewer_passes():
            assert gc.get_threshold()[0] == heap.SENDING_YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == heap.SENDING_YOUNG_THRESHOLD  # the outer one goes on
    assert gc.get_threshold() == (700, 10, 10)


def test_a_failure_inside_leaves_the_thresholds_as_they_were():
    with pytest.raises(RuntimeError), heap.fewer_passes():
        raise RuntimeError("a chunk failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_set_by_the_process_is_kept():
    gc.set_threshold(50_000, 10, 10)
    with heap.fewer_passes():
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_threshold()[0] == 50_000


def test_two_threads_leave_the_thresholds_as_they_were_whichever_ends_first():
    entered, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with heap.fewer_passes():
            entered.set()
            release_first.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    entered.wait(5)
    with heap.fewer_passes():
        release_first.set()
        thread.join(5)
        # The first thread left; this one is still inside.
        assert gc.get_threshold()[0] == heap.SENDING_YOUNG_THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)
