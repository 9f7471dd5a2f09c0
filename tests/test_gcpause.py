"""The collector pause around large computations: what it leaves alive is filed as old, not walked again."""

from __future__ import annotations

import gc
import weakref

import pytest

from flowcase import gcpause
from flowcase.gcpause import LARGE, paused_gc


class Box:
    """A tracked object of our own (so it can be found among the collector's objects)."""


def generation_of(obj: object) -> int | None:
    for generation in range(3):
        if any(o is obj for o in gc.get_objects(generation=generation)):
            return generation
    return None


def test_the_collector_is_off_during_the_pause_and_on_after() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: still off
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_large_pause_leaves_alive_goes_to_the_oldest_generation() -> None:
    with paused_gc():
        kept = Box()
        many = [Box() for _ in range(LARGE)]
        assert generation_of(kept) == 0  # born young
    assert generation_of(kept) == 2  # filed as old without a collection walking it
    assert gc.get_count()[0] < 100  # and no young collection is due because of it
    del many
    with paused_gc():
        small = Box()
    assert generation_of(small) == 0  # a small pause leaves its few objects to the young collections


def test_cycles_made_in_pauses_are_freed_by_a_full_collection_in_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "FULL_AFTER", 1)  # any filing calls for a full collection
    gone = []
    with paused_gc():
        cycle = Box()
        cycle.self = cycle  # type: ignore[attr-defined]
        weakref.finalize(cycle, gone.append, True)
        del cycle
        many = [Box() for _ in range(LARGE)]
    assert gone == [True]  # the full collection at the end of the pause freed it
    assert gcpause._state["filed"] == 0  # and the count of filed objects starts again
    del many


def test_the_pause_does_not_unfreeze_what_someone_else_froze() -> None:
    frozen = Box()
    gc.freeze()  # as a pre-forking server does
    try:
        count = gc.get_freeze_count()
        with paused_gc():
            young = Box()
            many = [Box() for _ in range(LARGE)]
        assert gc.get_freeze_count() > count // 2  # not unfrozen (frozen objects that die leave the count)
        assert generation_of(frozen) is None  # still frozen (the permanent generation is not 0, 1 or 2)
        assert generation_of(young) in (0, 1, 2)
        del many
    finally:
        gc.unfreeze()


def test_a_pause_left_by_an_exception_restores_the_collector() -> None:
    try:
        with paused_gc():
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.isenabled()
