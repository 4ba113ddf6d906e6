"""Big, long-lived indexes kept out of the cycle collector's passes, and fewer passes
while a sender's chunk goes out (`fewer_passes`, at the end).

A window's PaperIndex is a few hundred thousand to millions of small containers that
live as long as the window is served. Left to the cycle collector, each of its full
passes walks them all again (for the preview, a 100-400 ms stop of every thread; for a
sender, the passes grew with the window's caches). So a big index is built with the
collector paused, then one full pass runs and everything the process holds is moved to
the permanent generation (gc.freeze). Indexing makes no reference cycles: what it drops
is freed by reference counting, frozen or not.

One process-wide record of whether the last managed build froze: the next build (of
any index) unfreezes first, so a dropped index leaves nothing the collector can never
reach; a small build after a big one leaves everything unfrozen, and a build that
froze nothing leaves alone what the process froze itself (config/wsgi.py)."""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from digest import matching

# From how many papers an index is frozen: the bar from which the engine pauses the
# collector while indexing (a smaller index makes few objects, and the full pass
# before freezing would cost more than it saves).
FREEZE_FROM = matching.engine.PAUSE_COLLECTOR_FROM

_state = {"frozen": False}  # whether the last managed build froze (gc.freeze)


@contextmanager
def frozen_when_built(big: bool) -> Iterator[bool]:
    """A new index built inside; after it, when `big` (and the collector was running),
    one full pass and gc.freeze. Yields whether it manages the collector: a collector
    paused by the caller is left as it was (and the engine then skips its own pass)."""
    manage = big and gc.isenabled()
    if manage:
        gc.disable()
    try:
        yield manage
    finally:
        if _state["frozen"]:
            gc.unfreeze()
        _state["frozen"] = manage
        if manage:
            gc.enable()
            gc.collect()
            gc.freeze()


def forget_freeze() -> None:
    """Everything unfrozen, and no build on record as having frozen (tests)."""
    gc.unfreeze()
    _state["frozen"] = False


# A sender's chunk makes hundreds of thousands of short-lived containers (querysets,
# items, messages) while the caches of rendered items, highlighted texts and results
# hold as many long-lived ones. At CPython's thresholds (a young pass every 700
# allocations net, a full pass when ten middle passes found enough survivors) a
# worker's collector took 2.6 of 16.2 s of CPU over 10,000 digests on PostgreSQL, 12 full
# passes over those caches, and 4.9 of 23.4 s on SQLite (gc.callbacks around
# send_chunk, bench/send.py). A young pass every 10,000 allocations: one full pass, 0.9
# and 0.55 s. What a chunk drops is freed by reference counting either way; only its
# few cycles wait a little longer (50,000 measured the same).
SENDING_YOUNG_THRESHOLD = 10_000

_raised = {"depth": 0, "before": None}
_raised_lock = threading.Lock()


@contextmanager
def fewer_passes() -> Iterator[None]:
    """Inside, the collector's young pass every SENDING_YOUNG_THRESHOLD allocations (the
    other thresholds as they were); the thresholds of before once the last one nested
    or running on another thread is left."""
    with _raised_lock:
        if _raised["depth"] == 0:
            _raised["before"] = before = gc.get_threshold()
            gc.set_threshold(max(before[0], SENDING_YOUNG_THRESHOLD), *before[1:])
        _raised["depth"] += 1
    try:
        yield
    finally:
        with _raised_lock:
            _raised["depth"] -= 1
            if _raised["depth"] == 0:
                gc.set_threshold(*_raised["before"])
