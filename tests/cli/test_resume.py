"""Crash safety: a search killed at any point (SIGKILL, Ctrl-C) resumes to exactly the uninterrupted catalog.

The reference is a 40-chunk e search run once without interruption (``reference``).  Each scenario runs
the same search into a fresh catalog, kills it after at least k chunks are committed (polling the
``search_chunks`` table), checks that the half-written catalog is consistent, reruns the command to
completion and compares the two catalogs.  One scenario kills the search in its families phase (every chunk
scanned, the formulas not yet stored): the rerun then stores them without scanning again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from dataclasses import dataclass

import pytest
from catalog_checks import result_lines

E_CHUNKS = 40


def check_consistent(snap):
    """Whatever was committed is whole: counters, checkpoints and links agree; no duplicates."""
    assert snap["integrity"] == ["ok"]
    assert len(snap["searches"]) == 1
    [s] = snap["searches"]
    assert s["chunks_done"] == len(snap["chunks"][s["id"]]) == snap["chunk_rows"].get(s["id"], 0)
    assert s["conjectures"] == len(snap["linked"][s["id"]])
    assert sorted(snap["linked"][s["id"]]) == sorted(c.id for c in snap["conjectures"])
    dumped = [json.dumps(r, sort_keys=True) for r in snap["records"]]
    assert len(set(dumped)) == len(dumped), "duplicate conjectures"
    keys = [(c.constant, c.key) for c in snap["conjectures"]]
    assert len(set(keys)) == len(keys)


def check_same_as_reference(snap, ref):
    check_consistent(snap)
    [s] = snap["searches"]
    [r] = ref["searches"]
    assert s["status"] == "done"
    assert s["chunks_done"] == s["chunks_total"] == r["chunks_total"] == E_CHUNKS
    assert snap["chunks"][s["id"]] == set(range(E_CHUNKS))
    for k in ("constant", "params", "candidates", "hits", "conjectures"):
        assert s[k] == r[k], k
    assert len(snap["records"]) == len(ref["records"])
    assert snap["records"] == ref["records"]


#: 40 chunks of about 15 ms (hits in most): a signal sent between commits lands mid-search
E_ARGS = ["search", "e", "--coeff-limit", "3", "--max-period", "2", "--verify-digits", "300"]


@pytest.fixture(scope="module")
def reference(esma_run, snapshot, tmp_path_factory):
    db = tmp_path_factory.mktemp("resume-ref") / "a.sqlite"
    res = esma_run(*E_ARGS, "--executor", "serial", "--db", db)
    assert res.code == 0, res.stderr
    ref = snapshot(db)
    check_consistent(ref)
    assert ref["searches"][0]["status"] == "done" and ref["searches"][0]["chunks_total"] == E_CHUNKS
    assert len(ref["records"]) > 0
    return ref


@dataclass
class Crash:
    code: int  # exit code of the interrupted run
    stdout: str
    stderr: str
    seen: int  # chunks committed when the signal was sent
    done: int  # chunks committed after the process ended
    crashed: dict  # snapshot of the catalog between the crash and the rerun
    rerun: dict  # the rerun's --json document


@pytest.fixture
def crash_and_resume(esma_popen, esma_run, wait_for_chunks, chunks_committed, snapshot, tmp_path):
    def crash(k, executor="serial", signals=(signal.SIGKILL,), known_bug=None):
        db = tmp_path / "b.sqlite"
        extra = ["--executor", executor] + (["--workers", "2"] if executor == "process" else [])
        proc = esma_popen(*E_ARGS, *extra, "--db", db)
        seen = wait_for_chunks(proc, db, k)
        if signal.SIGINT in signals:
            # right after a commit: the signals land while the next chunk computes, not in a commit or after
            # the last chunk (a SIGKILL instead may land anywhere, a commit included)
            seen = wait_for_chunks(proc, db, seen + 1)
            time.sleep(0.03)  # past the stop check that follows each commit
        for sig in signals:
            if sig == signal.SIGKILL:
                os.killpg(proc.pid, signal.SIGKILL)  # the process and any workers it forked: a hard crash
            else:
                proc.send_signal(sig)  # the program only; a terminal's Ctrl-C is tested separately
            time.sleep(0.005)
        out, err = proc.communicate(timeout=120)
        if known_bug is not None:
            known_bug(proc.returncode, err)
        done = chunks_committed(db)
        # chunks that found nothing are checkpointed in batches, so the count can jump at the stop; a signal
        # after the last chunk lands in the families phase, which is interrupted (and resumed) too
        assert k <= seen <= done <= E_CHUNKS, f"the kill did not land mid-search ({seen=}, {done=})"
        crashed = snapshot(db)
        check_consistent(crashed)
        [s] = crashed["searches"]
        assert s["chunks_done"] == done
        assert s["status"] != "done", "the signal came after the search had finished"
        rerun = esma_run(*E_ARGS, *extra, "--json", "--db", db)
        assert rerun.code == 0, rerun.stderr
        doc = json.loads(rerun.stdout)
        assert doc["search"]["id"] == s["id"], "the rerun started a new search instead of resuming"
        assert "Traceback" not in rerun.stderr
        return Crash(proc.returncode, out, err, seen, done, crashed, doc)

    return crash


@pytest.mark.parametrize(("k", "where"), [(1, "early"), (15, "middle"), (30, "late")])
def test_sigkill_serial_then_resume(crash_and_resume, snapshot, reference, tmp_path, k, where):
    c = crash_and_resume(k)
    assert c.code == -signal.SIGKILL
    check_same_as_reference(snapshot(tmp_path / "b.sqlite"), reference)
    assert len(c.rerun["conjectures"]) == len(reference["records"])
    assert c.rerun["search"]["conjectures"] == reference["searches"][0]["conjectures"]


def test_sigkill_in_the_families_phase_then_resume(esma_popen, esma_run, snapshot, reference, tmp_path):
    """Killed after the scan (every chunk committed, hits pending) and before the formulas are stored: the
    catalog holds no formula, and the rerun stores exactly the reference's, scanning nothing again."""
    import sqlite3

    db = tmp_path / "b.sqlite"
    proc = esma_popen(*E_ARGS, "--executor", "serial", "--db", db)
    # the families phase announces itself on stderr before its approvals: kill right then
    while not (line := proc.stderr.readline()).startswith("esma: families:"):
        assert line, f"the search ended before its families phase (exit {proc.wait()})"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    crashed = snapshot(db)
    check_consistent(crashed)
    [s] = crashed["searches"]
    assert s["status"] != "done" and s["chunks_done"] == E_CHUNKS and crashed["conjectures"] == []
    with sqlite3.connect(db) as conn:
        pending = conn.execute("SELECT COUNT(*) FROM search_chunks WHERE hit_records IS NOT NULL").fetchone()[0]
        stamps = conn.execute("SELECT chunk_index, created_at FROM search_chunks").fetchall()
    assert pending > 0
    rerun = esma_run(*E_ARGS, "--executor", "serial", "--json", "--db", db)
    assert rerun.code == 0, rerun.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT chunk_index, created_at FROM search_chunks").fetchall() == stamps
        assert conn.execute("SELECT COUNT(*) FROM search_chunks WHERE hit_records IS NOT NULL").fetchone()[0] == 0
    check_same_as_reference(snapshot(db), reference)


def test_sigkill_process_executor_then_resume(crash_and_resume, snapshot, reference, tmp_path):
    c = crash_and_resume(4, executor="process")
    assert c.code == -signal.SIGKILL
    check_same_as_reference(snapshot(tmp_path / "b.sqlite"), reference)


def check_interrupted_message(c):
    assert c.code == 130, c.stderr
    assert c.stdout == ""
    assert "resume" in c.stderr
    assert "Traceback" not in c.stderr
    assert len(result_lines(c.stderr)) == 1, c.stderr
    m = re.search(r"(\d+)/(\d+) chunks", c.stderr)
    assert m and int(m.group(2)) == E_CHUNKS
    assert int(m.group(1)) == c.done, "the message must report the chunks actually saved"
    [s] = c.crashed["searches"]
    assert s["status"] == "interrupted"
    assert s["chunks_done"] == c.done and s["chunks_total"] == E_CHUNKS


def test_sigint_then_resume(crash_and_resume, snapshot, reference, tmp_path):
    c = crash_and_resume(3, signals=(signal.SIGINT,))
    check_interrupted_message(c)
    check_same_as_reference(snapshot(tmp_path / "b.sqlite"), reference)


def second_ctrl_c_bugs(code, err):
    """Known bugs of the second Ctrl-C ("stops at once"), which lands at a random point of the run:

    * inside a Numba kernel's return: exit 1, ``SystemError: CPUDispatcher(<function ...>) returned a result
      with an exception set`` (KeyboardInterrupt raised by the signal handler while the dispatcher returns);
    * inside a chunk's commit: that transaction's SQLite write lock stays held by the process, so marking the
      search interrupted waits the 30 s busy timeout and fails (exit 1, ``database is locked``);
    * during the wrap-up of the first Ctrl-C: ``Exception closing connection`` traceback and ``esma: aborted``.
    """
    for needle in ("SystemError", "database is locked", "InvalidRequestError", "Exception closing connection"):
        if needle in err:
            pytest.xfail(f"known bug of the second Ctrl-C (exit {code}): {needle}: {err.strip()[:300]}")


def test_double_sigint_stops_at_once_then_resume(crash_and_resume, snapshot, reference, tmp_path):
    c = crash_and_resume(5, signals=(signal.SIGINT, signal.SIGINT), known_bug=second_ctrl_c_bugs)
    check_interrupted_message(c)
    check_same_as_reference(snapshot(tmp_path / "b.sqlite"), reference)


def test_max_seconds_stops_and_resumes(esma_run, snapshot, reference, tmp_path):
    """--max-seconds stops after a chunk, exits 0 and leaves the search resumable."""
    db = tmp_path / "b.sqlite"
    first = esma_run(*E_ARGS, "--executor", "serial", "--max-seconds", "0.001", "--json", "--db", db)
    assert first.code == 0, first.stderr
    doc = json.loads(first.stdout)
    assert 1 <= doc["search"]["chunks_done"] < E_CHUNKS
    assert "resume" in first.stderr and "Traceback" not in first.stderr
    crashed = snapshot(db)
    check_consistent(crashed)
    assert crashed["searches"][0]["status"] == "interrupted"
    second = esma_run(*E_ARGS, "--executor", "serial", "--json", "--db", db)
    assert second.code == 0, second.stderr
    assert json.loads(second.stdout)["search"]["id"] == doc["search"]["id"]
    check_same_as_reference(snapshot(db), reference)


def test_ctrl_c_with_process_executor_is_one_clean_line(
    esma_popen, esma_run, wait_for_chunks, snapshot, reference, tmp_path
):
    """A terminal's Ctrl-C signals the whole foreground process group, pool workers included."""
    db = tmp_path / "b.sqlite"
    args = [*E_ARGS, "--executor", "process", "--workers", "2", "--db", db]
    proc = esma_popen(*args)
    wait_for_chunks(proc, db, 3)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume" in err
    assert "Traceback" not in err, err
    assert len(result_lines(err)) == 1, err
    crashed = snapshot(db)
    check_consistent(crashed)
    assert crashed["searches"][0]["status"] == "interrupted"
    rerun = esma_run(*args)
    assert rerun.code == 0, rerun.stderr
    check_same_as_reference(snapshot(db), reference)
