"""The executors' common contract, on the serial and process executors (the Dask one: test_dask.py).

Every executor yields each requested chunk exactly once, with the same records as the serial run; bad
arguments fail at the call; a pool process that dies is replaced and its chunks recomputed; pool processes
leave Ctrl-C to the client.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from catalog_checks import result_lines
from hypothesis import given
from hypothesis import strategies as st
from scaleout_reference import check_same_as_serial, serial

from esma.executors import EXECUTORS, Stripes, Workers, default_workers, run_chunks

SMALL = {"coeff_limit": 1, "max_period": 3, "verify_digits": 300, "chunk_size": 1}
# enough work left after the first result (56 chunks) for a kill to land mid-run
KILL = {"coeff_limit": 2, "max_period": 3, "verify_digits": 300, "chunk_size": 2}


@pytest.mark.parametrize("expr", ["e", "tan(1)"])
def test_process_equals_serial(expr: str) -> None:
    plan, *_ = serial(expr, SMALL)
    results = list(run_chunks(plan, range(len(plan.chunks)), "process", workers=2))
    check_same_as_serial(expr, SMALL, results)


def test_subset_of_chunks_in_any_order() -> None:
    """A resumed run asks for some chunks only: exactly those come back."""
    plan, *_ = serial("e", SMALL)
    want = [7, 0, 5, 3]
    for executor in ("serial", "process"):
        got = [r.index for r in run_chunks(plan, want, executor, workers=2)]
        assert sorted(got) == sorted(want), executor
    assert list(run_chunks(plan, [], "process", workers=2)) == []
    assert list(run_chunks(plan, [], "dask", workers=2)) == []  # nothing to do: no cluster is started


def test_tasks_run_with_the_collector_paused() -> None:
    """A task's whole stay in a worker (arguments unpickled, run, result pickled) is one paused block
    (``esma.memory``): run with the collector on, each task's objects were traversed again and again."""
    plan, *_ = serial("e", SMALL)
    assert gc.isenabled()
    with Workers(plan, "process", workers=2) as session:
        states = dict(session.map([(i, gc.isenabled, ()) for i in range(4)]))
    assert states == {0: False, 1: False, 2: False, 3: False}
    assert gc.isenabled()
    with Workers(plan, "serial") as session:  # and in this process, one task at a time
        assert dict(session.map([(i, gc.isenabled, ()) for i in range(2)])) == {0: False, 1: False}
    assert gc.isenabled()


def test_bad_arguments_fail_at_the_call() -> None:
    plan, *_ = serial("e", SMALL)
    n = len(plan.chunks)
    with pytest.raises(ValueError, match="executor"):
        run_chunks(plan, [0], "threads")
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="workers"):
            run_chunks(plan, [0], "process", workers=bad)
    with pytest.raises(ValueError, match="scheduler"):
        run_chunks(plan, [0], "process", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="scheduler"):
        run_chunks(plan, [0], "dask", scheduler="  ")
    with pytest.raises(ValueError, match=r"\[0, "):
        run_chunks(plan, [0, n], "serial")
    with pytest.raises(ValueError):
        run_chunks(plan, [-1], "process")
    assert set(EXECUTORS) == {"serial", "process", "dask"}
    assert default_workers() >= 1


def _pool_processes(before: set[int]) -> list[psutil.Process]:
    """Children forked since ``before`` that run this very interpreter (the pool; not the resource tracker)."""
    me = psutil.Process()
    return [p for p in me.children() if p.pid not in before and p.cmdline() == me.cmdline()]


def test_killed_pool_process_is_replaced_and_its_chunks_recomputed() -> None:
    plan, *_ = serial("tan(1)", KILL)
    before = {p.pid for p in psutil.Process().children()}
    gen = run_chunks(plan, range(len(plan.chunks)), "process", workers=2)
    results = [next(gen)]
    pool = _pool_processes(before)
    assert len(pool) == 2, [p.cmdline() for p in pool]
    pool[0].kill()
    results += list(gen)
    check_same_as_serial("tan(1)", KILL, results)
    # the pool that finished the run is a new one (the broken pool's other process is gone too)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in pool)


def _search_registered(db: Path) -> bool:
    """The catalog at ``db`` holds a search row (read-only peek; the writer may hold the file)."""
    import sqlite3

    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1) as con:
            return con.execute("SELECT count(*) FROM searches").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def test_workers_ignore_ctrl_c(tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole process group: the client stops the run and says how to resume;
    the pool processes must not each print a KeyboardInterrupt traceback."""
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    db = tmp_path / "c.sqlite"
    # a search of a few seconds: the signal must find it running
    args = [sys.executable, "-m", "esma.cli.main", "search", "e", "--coeff-limit", "3", "--max-period", "4",
            "--verify-digits", "300", "--executor", "process", "--workers", "2", "--db", str(db)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env=env, cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        # wait until the pool is up (2 grandchildren besides any resource tracker) and the run has begun: the
        # pool starts while the catalog opens, and a Ctrl-C before the run is a plain abort with nothing to resume
        while True:
            kids = [p for p in psutil.Process(proc.pid).children() if "resource_tracker" not in " ".join(p.cmdline())]
            if (len(kids) >= 2 and _search_registered(db)) or proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the search ended before it could be interrupted"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "resume" in err
    assert len(result_lines(err)) == 1, err


def test_doctests() -> None:
    import doctest

    import esma.executors

    assert doctest.testmod(esma.executors).failed == 0


@given(st.integers(0, 200), st.integers(1, 8), st.lists(st.tuples(st.integers(0, 7), st.integers(0, 70)),
                                                          max_size=400))
def test_stripes_hand_out_every_chunk_once_in_consecutive_runs(n: int, slots: int, takes) -> None:
    """Whatever the order the slots come back in and the sizes they ask for, every chunk is handed out exactly
    once, each task is a run of consecutive chunks, and a slot only gets ``None`` when nothing is left."""
    indices = [3 * i + 1 for i in range(n)]  # any increasing indices (a resumed run's are not 0..n-1)
    stripes = Stripes(indices, slots)
    assert [len(r) for r in stripes.runs if r][:1] in ([], [-(-n // slots)])  # the first stripe is full-size
    out: list[int] = []
    for slot, count in [(s % slots, c) for s, c in takes] + [(k % slots, 5) for k in range(2 * n + slots)]:
        got = stripes.take(slot, count)
        if got is None:
            assert not any(stripes.runs)
            continue
        assert 1 <= len(got) <= max(count, 1)
        assert got == indices[indices.index(got[0]) : indices.index(got[0]) + len(got)]  # consecutive
        out.extend(got)
    assert sorted(out) == indices


def test_stripes_keep_concurrent_tasks_apart() -> None:
    """The first task of each slot starts its own stripe, and an empty slot takes the back half of the longest
    run left (not the chunks next to the ones another slot is running)."""
    stripes = Stripes(list(range(100)), 4)
    assert [stripes.take(s, 5) for s in range(4)] == [[0, 1, 2, 3, 4], [25, 26, 27, 28, 29], [50, 51, 52, 53, 54],
                                                      [75, 76, 77, 78, 79]]
    for _ in range(4):
        stripes.take(3, 5)  # slot 3 empties its run (80..99)
    assert stripes.take(3, 1) == [15]  # runs left: 5..24, 30..49, 55..74: the first longest, its back half 15..24


def test_tails_teach_each_worker_what_the_others_met() -> None:
    from esma.executors import _Tails
    from esma.scanning import ChunkResult

    def result(*keys: str) -> ChunkResult:
        return ChunkResult(index=0, hits=(), candidates=0, scanned=0, seconds=0.0,
                           learned=tuple((k,) for k in keys))

    tails = _Tails()
    assert tails.teach(None) == () and tails.teach("a") == ()
    tails.record("a", [result("x"), result("y")])
    tails.record("b", [result("z")])
    assert tails.teach("a") == (("z",),)  # not its own lessons
    assert tails.teach("a") == ()  # taught already
    assert tails.teach("b") == (("x",), ("y",))
    assert tails.teach("c") == (("x",), ("y",), ("z",))  # a worker not seen yet: everything
    assert tails.teach(None) == ()  # who runs it is unknown: nothing (only an economy)
    tails.record("c", [result("w")])
    assert tails.teach("a") == (("w",),)
