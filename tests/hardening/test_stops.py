"""Clean stops: ``esma search`` stopped by SIGINT, SIGTERM or SIGHUP in any phase, or killed with SIGKILL.

Each scenario starts the real program (``--executor process --workers 2``, a 40-chunk search of e) in its own
session, records the pids of every process it starts (``psutil``, polled while it runs), sends one real signal
to the esma process alone at a chosen phase, and checks:

* the exit code: 128 + the signal number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), one line on stderr
  saying how to resume, no traceback;
* the catalog: the search is ``interrupted`` (a SIGKILL leaves it as it was: nothing can run after it);
* no process the command started is alive after a short grace (pool workers included, also after a SIGKILL of
  their parent, which they cannot be told about: they notice it themselves);
* a rerun of the same command resumes the search and ends with exactly the formulas of an uninterrupted run.

Phases are told apart by what the program reports on stderr (``esma: planning: ...`` before the layout of a
large space, ``esma: families: ...`` when the scan is over) and by the chunks committed in the catalog (scan).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from catalog_checks import chunks_committed

from esma.db import Catalog

ESMA = [sys.executable, "-m", "esma.cli.main"]
#: 40 chunks of about 15 ms, hits in most; a families phase of about a second.
E_ARGS = ["search", "e", "--coeff-limit", "3", "--max-period", "2", "--verify-digits", "300"]
E_CHUNKS = 40
POOL = ["--executor", "process", "--workers", "2"]
#: A space whose layout takes seconds (132,496 pairs of coefficient vectors): the planning phase.
BIG_ARGS = ["search", "e", "--degree", "2", "--coeff-limit", "4", "--max-period", "1", "--verify-digits", "300"]
#: Seconds a stopped command's processes get to be gone.
GRACE = 5.0


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_to_end(args: list[str], db: Path, cwd: Path) -> subprocess.CompletedProcess:
    res = subprocess.run([*ESMA, *args, "--json", "--db", str(db)], capture_output=True, text=True, env=_env(),
                         cwd=cwd, timeout=300, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    return res


def records(db: Path) -> list[str]:
    with Catalog(str(db)) as cat:
        rows = [c.to_dict() for c in cat.conjectures()]
    for r in rows:  # row ids (the formula's and its family's) depend on the order of insertion
        r.pop("id")
        r.pop("family_id")
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def search_rows(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT status, chunks_done, chunks_total FROM searches").fetchall()
    except sqlite3.OperationalError:  # no schema yet
        return []
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[str]:
    cwd = tmp_path_factory.mktemp("stops-ref")
    db = cwd / "ref.sqlite"
    run_to_end([*E_ARGS, "--executor", "serial"], db, cwd)
    got = records(db)
    assert got
    return got


class Watched:
    """The esma process, the lines of its stderr as they come, and every process it started (their pids and
    start times, polled while it runs: once it is gone, its orphans are no longer its children)."""

    def __init__(self, args: list[str], db: Path, cwd: Path) -> None:
        self.proc = subprocess.Popen([*ESMA, *args, "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, env=_env(), cwd=cwd,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.children: dict[int, float] = {}
        self._line = threading.Condition()
        self._done = threading.Event()
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._poll, daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self._line:
                self.lines.append(line)
                self._line.notify_all()
        with self._line:
            self._done.set()
            self._line.notify_all()

    def _poll(self) -> None:
        try:
            me = psutil.Process(self.proc.pid)
        except psutil.NoSuchProcess:
            return
        while self.proc.poll() is None:
            try:
                for child in me.children(recursive=True):
                    self.children.setdefault(child.pid, child.create_time())
            except psutil.NoSuchProcess:
                return
            time.sleep(0.01)

    def wait_line(self, prefix: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        with self._line:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                if self._done.is_set():
                    pytest.fail(f"the command ended (exit {self.proc.wait()}) before printing {prefix!r}: "
                                f"{''.join(self.lines)[-2000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"no {prefix!r} on stderr within {timeout} s")
                self._line.wait(0.1)

    def wait_chunks(self, db: Path, k: int, timeout: float = 180) -> int:
        deadline = time.monotonic() + timeout
        while (n := chunks_committed(db)) < k:
            assert self.proc.poll() is None, f"the search ended after {n} chunks: {''.join(self.lines)[-2000:]}"
            assert time.monotonic() < deadline, f"no {k} chunks committed within {timeout} s"
            time.sleep(0.003)
        return n

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        self.proc.stdout.close()
        return self.proc.returncode, "".join(self.lines)

    def survivors(self, grace: float = GRACE) -> list[str]:
        """The processes started by the command still alive ``grace`` seconds after it ended."""
        deadline = time.monotonic() + grace
        while True:
            alive = []
            for pid, started in self.children.items():
                try:
                    p = psutil.Process(pid)
                    if p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE:
                        alive.append(f"{pid} {' '.join(p.cmdline())[:120]}")
                except psutil.NoSuchProcess:
                    pass
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.05)

    def kill(self) -> None:
        """Clean up after a failed test: the command's process group, and its recorded children, by pid."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        for pid, started in self.children.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == started:
                    p.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def watched(tmp_path):
    started: list[Watched] = []

    def start(args: list[str], db: Path) -> Watched:
        w = Watched(args, db, tmp_path)
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill()


def _wait_for_workers(w: Watched, n: int = 2, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(w.children) < n:
        assert w.proc.poll() is None and time.monotonic() < deadline, f"no {n} worker processes: {w.children}"
        time.sleep(0.01)


def _check_stopped(w: Watched, sig: int, db: Path, said: str = "resume") -> None:
    code, err = w.finish()
    assert code == 128 + sig, f"exit {code} after {signal.Signals(sig).name}: {err}"
    assert "Traceback" not in err, err
    # progress on a pipe: phase messages (wrapped to the width: their further lines are indented) and progress
    # lines; the stop itself is one line
    progress = ("esma: families:", "esma: planning:", "esma: scan:", "esma:   ")
    lines = [line for line in err.splitlines() if not line.startswith(progress)]
    assert len(lines) == 1 and said in lines[0], err
    assert w.survivors() == [], "processes outlived the command"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
@pytest.mark.parametrize("phase", ["scan", "families"])
def test_a_signal_stops_the_workers_saves_and_resumes(watched, reference, tmp_path, phase, sig):
    db = tmp_path / "c.sqlite"
    w = watched([*E_ARGS, *POOL], db)
    if phase == "scan":
        w.wait_chunks(db, 3)
        _wait_for_workers(w)
    else:
        w.wait_line("esma: families:")
    assert len(w.children) >= 2, w.children  # the pool was running: its processes are the ones to stop
    w.proc.send_signal(sig)  # the esma process alone (a terminal's Ctrl-C would reach the workers too)
    _check_stopped(w, sig, db)
    [(status, done, total)] = search_rows(db)
    assert status == "interrupted" and total == E_CHUNKS
    if phase == "families":
        assert done == E_CHUNKS
    run_to_end([*E_ARGS, *POOL], db, tmp_path)
    assert search_rows(db) == [("done", E_CHUNKS, E_CHUNKS)], "the rerun did not resume the search"
    assert records(db) == reference


@pytest.mark.parametrize("phase", ["scan", "families"])
def test_sigkill_of_the_command_leaves_no_worker(watched, reference, tmp_path, phase):
    """The pool's processes cannot be told: they notice that their parent died and end."""
    db = tmp_path / "c.sqlite"
    w = watched([*E_ARGS, *POOL], db)
    if phase == "scan":
        w.wait_chunks(db, 3)
        _wait_for_workers(w)
    else:
        w.wait_line("esma: families:")
    assert len(w.children) >= 2, w.children
    os.kill(w.proc.pid, signal.SIGKILL)  # the esma process alone, not its process group
    code, _ = w.finish()
    assert code == -signal.SIGKILL
    assert w.survivors() == [], "pool processes outlived their parent"
    run_to_end([*E_ARGS, *POOL], db, tmp_path)
    assert search_rows(db) == [("done", E_CHUNKS, E_CHUNKS)]
    assert records(db) == reference


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_while_planning_stops_at_once(watched, tmp_path, sig):
    """The layout of a large space takes seconds; nothing is stored before it ends (the catalog is opened
    after planning), so a stop then leaves nothing to resume and nothing running."""
    db = tmp_path / "c.sqlite"
    w = watched([*BIG_ARGS, *POOL], db)
    w.wait_line("esma: planning:")
    t0 = time.monotonic()
    w.proc.send_signal(sig)
    _check_stopped(w, sig, db, said="nothing was stored")
    assert time.monotonic() - t0 < 10, "the stop waited for the planning to end"
    assert search_rows(db) == []


def test_sigkill_of_the_command_leaves_no_dask_worker(watched, reference, tmp_path):
    """The worker processes of the local Dask cluster end with the command that started it."""
    db = tmp_path / "c.sqlite"
    w = watched([*E_ARGS, "--executor", "dask", "--workers", "2"], db)
    w.wait_chunks(db, 3)
    _wait_for_workers(w)
    os.kill(w.proc.pid, signal.SIGKILL)
    code, _ = w.finish()
    assert code == -signal.SIGKILL
    assert w.survivors() == [], "Dask worker processes outlived the command"
    run_to_end([*E_ARGS, *POOL], db, tmp_path)
    assert records(db) == reference


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_to_the_whole_process_group_is_handled_once(watched, reference, tmp_path, sig):
    """``kill -- -PGID`` or a closed terminal reach the pool's processes too: they leave the stop to the command
    (which stops them once the chunk in flight is saved) instead of dying under it and breaking the pool."""
    db = tmp_path / "c.sqlite"
    w = watched([*E_ARGS, *POOL], db)
    w.wait_chunks(db, 3)
    _wait_for_workers(w)
    os.killpg(w.proc.pid, sig)
    _check_stopped(w, sig, db)
    [(status, _, total)] = search_rows(db)
    assert status == "interrupted" and total == E_CHUNKS
    run_to_end([*E_ARGS, *POOL], db, tmp_path)
    assert records(db) == reference
