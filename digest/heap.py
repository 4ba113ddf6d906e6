"""Big, long-lived indexes kept out of the cycle collector's passes.

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
