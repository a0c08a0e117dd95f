"""esma.memory.paused_gc: the collector is paused inside, restored after, and what the block leaves alive goes to
the oldest generation without a collection traversing it (the worker processes run one block per task)."""

from __future__ import annotations

import gc
import weakref

import pytest

from esma.memory import paused_gc


class _Node:
    """A tracked object that can sit in a reference cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_pauses_inside_and_restores_after(collector_on) -> None:
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: still paused, and the outer block still restores
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), paused_gc():
        raise KeyError("x")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen


def test_a_caller_that_paused_the_collector_keeps_it_paused() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_survivors_go_to_the_oldest_generation_untraversed(collector_on) -> None:
    collections = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        with paused_gc():
            made = [_Node() for _ in range(5000)]  # well past the youngest generation's threshold
        ids = {id(x) for x in made}
        assert not collections  # paused: no collection inside the block
        oldest = {id(x) for x in gc.get_objects(generation=2)}
        youngest = {id(x) for x in gc.get_objects(generation=0)}
        assert ids <= oldest
        assert not ids & youngest
    finally:
        gc.callbacks.remove(count)


def test_cycles_made_in_a_block_are_still_collected(collector_on) -> None:
    with paused_gc():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        watch = weakref.ref(a)
        del a, b
    assert watch() is not None  # a cycle: reference counting alone does not free it
    gc.collect()
    assert watch() is None
