"""Pausing Python's cyclic garbage collector around large, allocation-heavy pure computations.

Reading a 50,000-vertex model or generating a suite creates millions of small objects and almost no cycles.
Each full collection walks every live object, so with the collector on, the time grows faster than the input
(measured: import 13x and generation 14x slower from 5,000 to 50,000 vertices). Reference counting still frees
everything as usual; the collector runs again when the outermost pause ends.

What a large pause leaves alive (a model, a suite: millions of objects) would otherwise sit in the youngest
generation, and the first collection after the pause would walk all of it (0.2 s at 50,000 vertices, 15 times the
time at 5,000: every object is a cache miss), then the middle generation's would walk it again. Objects that outlive
a large computation are long-lived, so when the pause made at least :data:`LARGE` young objects, its end files them
with the oldest generation at once (``gc.freeze()`` then ``gc.unfreeze()``: two list splices, whatever the number of
objects). They are examined at the next full collection, like every old object; a reference cycle made during the
pause is freed then too, not at the next young collection. Python starts a full collection when enough objects
have become old through young collections, which these did not pass through: so that a long-lived process (a
compute worker) still frees such cycles, a full collection runs at the end of a pause once :data:`FULL_AFTER`
objects were filed as old since the last one. When something else keeps objects frozen (a pre-forking server does,
to share memory with its workers), the pause ends plainly, so as not to unfreeze what is not ours.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LARGE = 10_000  # young objects left by a pause from which on they are filed as old at once
FULL_AFTER = 10_000_000  # objects filed as old since the last full collection that call for one

_lock = threading.Lock()
_depth = 0
_state: dict[str, Any] = {"enabled": True, "filed": 0}


def _full_collection_seen(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        _state["filed"] = 0


gc.callbacks.append(_full_collection_seen)


def _file_as_old() -> None:
    """Move every tracked object to the oldest generation (not when something else froze objects)."""
    if gc.get_freeze_count():
        return
    gc.freeze()  # every tracked object into the permanent generation ...
    _state["filed"] += gc.get_freeze_count()
    gc.unfreeze()  # ... and back into the oldest one: no young collection walks them again
    if _state["filed"] >= FULL_AFTER:
        gc.collect()  # what Python would have done by now had they become old the usual way


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block (nested and thread-safe; restores the previous state)."""
    global _depth
    with _lock:
        if _depth == 0:
            was_enabled = gc.isenabled()
            gc.disable()
            _state["enabled"] = was_enabled
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _state["enabled"]:
                if gc.get_count()[0] >= LARGE:
                    _file_as_old()
                gc.enable()
