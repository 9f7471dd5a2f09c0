"""Pausing Python's cyclic garbage collector around large, allocation-heavy pure computations.

Reading a 50,000-vertex model or generating a suite creates millions of small objects and almost no cycles.
Each full collection walks every live object, so with the collector on, the time grows faster than the input
(measured: import 13x and generation 14x slower from 5,000 to 50,000 vertices). Reference counting still frees
everything as usual; the collector runs again when the outermost pause ends.

What the pause leaves alive (a model, a suite: millions of objects) would otherwise sit in the youngest generation,
and the first collection after the pause would walk all of it (0.2 s at 50,000 vertices, 15 times the time at
5,000: every object is a cache miss), then the middle generation's would walk it again. Objects that outlive a
large computation are long-lived, so the end of the pause files them with the oldest generation at once
(``gc.freeze()`` then ``gc.unfreeze()``: two list splices, whatever the number of objects). They are examined at the
next full collection, like every old object; a reference cycle made during the pause is freed then too, not at the
next young collection. When something else keeps objects frozen (a pre-forking server does, to share memory with
its workers), the pause ends plainly, so as not to unfreeze what is not ours.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


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
                if not gc.get_freeze_count():
                    gc.freeze()  # every tracked object into the permanent generation ...
                    gc.unfreeze()  # ... and back into the oldest one: no young collection walks them again
                gc.enable()


_state = {"enabled": True}
