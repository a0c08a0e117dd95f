"""The families phase on the executor: the same catalog whatever runs it, and stops that lose nothing.

The families phase (approval of each family's representative, members derived through their relations, proofs
and their checks) runs on the workers of the scan, in tasks of a few families; the client merges the tasks of a
batch and stores the batches in order.  What must hold, on a space with several batches of families (e with sign
periods up to 6: about 620 families, 11,760 formulas, three store batches):

* serial, process (2 workers) and Dask (a LocalCluster of 2 workers) runs write the same catalog: the same
  formulas under the same ids, with the same families, representatives, relations, figures and certificates;
* ``kill -9`` of the command in the families phase (after a batch is stored) leaves no worker behind, and a
  rerun of the same command ends with that same catalog;
* a search stopped by SIGTERM in the families phase exits 143, leaves no worker, and resumes to the same catalog.

Real processes throughout: the ``esma`` command, a real SQLite file, a real process pool and Dask cluster.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARGS = ["search", "e", "--max-period", "6"]


def _esma(db: Path, *extra: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.Popen(
        [sys.executable, "-m", "esma.cli.main", *ARGS, "--db", str(db), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
        cwd=db.parent,  # not the checkout: its esma/ folder would shadow the installed package
        **kw,
    )


def _run(db: Path, *extra: str) -> str:
    proc = _esma(db, *extra)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return err


def dump(db: Path) -> dict:
    """What a run leaves in the catalog, without the clocks."""
    con = sqlite3.connect(db)
    try:
        formulas = con.execute(
            "SELECT id, key, family_key, representative, relation, status, status_reason, certificate, "
            "verified_digits, verify_terms, digits_per_term, scf_digits_per_term, gain, terms, closed_form "
            "FROM conjectures ORDER BY id").fetchall()
        families = con.execute(
            "SELECT id, key, representative_id, members, proved_members, gain, kind, period "
            "FROM families ORDER BY id").fetchall()
        pending = con.execute("SELECT count(*) FROM search_chunks WHERE hit_records IS NOT NULL").fetchone()[0]
        status = con.execute("SELECT status, families FROM searches ORDER BY id").fetchall()
    finally:
        con.close()
    return {"formulas": formulas, "families": families, "pending": pending, "status": status}


def _processes() -> dict[int, tuple[int, int]]:
    """Every live process (zombies left out): pid -> (parent pid, session id), from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                out[int(entry)] = (int(fields[1]), int(fields[3]))
    return out


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` still alive."""
    procs = _processes()
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for child, (parent, _) in procs.items():
            if parent == p and child not in out:
                out.add(child)
                todo.append(child)
    return out


def _session_alive(sid: int) -> set[int]:
    """Processes of session ``sid`` (the command and every process it started) that are alive."""
    return {pid for pid, (_, session) in _processes().items() if session == sid}


def _wait_gone(sid: int, seconds: float = 20.0) -> set[int]:
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        left = _session_alive(sid)
        if not left:
            return left
        time.sleep(0.1)
    return _session_alive(sid)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> dict:
    db = tmp_path_factory.mktemp("serial") / "catalog.sqlite"
    _run(db, "--executor", "serial")
    got = dump(db)
    assert len(got["families"]) > 500 and len(got["formulas"]) > 10_000  # several store batches of 250
    assert got["pending"] == 0 and got["status"] == [("done", len(got["families"]))]
    return got


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_two_workers_write_the_serial_catalog(serial, tmp_path, executor) -> None:
    db = tmp_path / "catalog.sqlite"
    _run(db, "--executor", executor, "--workers", "2")
    got = dump(db)
    assert got["status"] == serial["status"]
    assert got["families"] == serial["families"]
    assert len(got["formulas"]) == len(serial["formulas"])
    for mine, theirs in zip(got["formulas"], serial["formulas"], strict=True):
        assert mine == theirs


def _wait_for_families(proc: subprocess.Popen, db: Path, seconds: float = 300.0) -> int:
    """Wait until the command has stored a batch of families (and is in its families phase); their number."""
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end and proc.poll() is None:
        if db.exists():
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                try:
                    n = con.execute("SELECT count(*) FROM families").fetchone()[0]
                finally:
                    con.close()
            except sqlite3.OperationalError:  # the schema is not there yet, or the writer holds the lock
                n = 0
            if n:
                return n
        time.sleep(0.05)
    raise AssertionError(f"no family stored while the command ran (exit {proc.poll()})")


def test_kill_9_in_the_families_phase_resumes_to_the_same_catalog(serial, tmp_path) -> None:
    db = tmp_path / "catalog.sqlite"
    proc = _esma(db, "--executor", "process", "--workers", "2")
    sid = proc.pid  # start_new_session: the command leads its own session, its workers are in it
    _wait_for_families(proc, db)  # a batch of families is stored, others are being assembled on the workers
    assert _children(proc.pid), "the workers of the families phase should be running"
    os.kill(proc.pid, signal.SIGKILL)  # the command only: its workers must end by themselves
    proc.wait(timeout=30)
    assert not _wait_gone(sid), "worker processes outlived the killed command"
    after_kill = dump(db)
    assert 0 < len(after_kill["families"]) < len(serial["families"])
    assert after_kill["pending"] > 0  # the hits wait for the rerun
    assert after_kill["status"][0][0] == "running"

    err = _run(db, "--executor", "process", "--workers", "2")
    assert "families:" in err
    assert dump(db) == serial


def test_sigterm_in_the_families_phase_stops_workers_and_resumes(serial, tmp_path) -> None:
    db = tmp_path / "catalog.sqlite"
    proc = _esma(db, "--executor", "dask", "--workers", "2", "--json")
    sid = proc.pid
    _wait_for_families(proc, db)
    os.kill(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not _wait_gone(sid), "worker processes outlived the stopped command"
    stopped = dump(db)
    assert stopped["status"][0][0] == "interrupted"
    assert stopped["pending"] > 0

    err = _run(db, "--executor", "serial")
    assert "families:" in err
    assert dump(db) == serial
    summary = json.loads(subprocess.run(
        [sys.executable, "-m", "esma.cli.main", *ARGS, "--db", str(db), "--json"],
        capture_output=True, text=True, check=True, cwd=tmp_path).stdout)["search"]
    assert summary["status"] == "done"
