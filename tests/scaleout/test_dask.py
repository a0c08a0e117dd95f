"""The Dask executor on a real ``LocalCluster`` of 2 single-threaded worker processes (no mock).

What must hold: the conjectures equal the serial run's, record for record, on e and tan(1); a worker killed
mid-run changes nothing (its chunks are recomputed); every chunk comes back exactly once; workers never
import the catalog; progress (chunks done / total) reaches the client per chunk; ``esma search --executor
dask`` works end to end with a clean stderr, on its own cluster and on an existing scheduler.

A module-wide cluster serves the ``--scheduler`` path (starting one costs seconds); the built-in path
(``run_chunks(..., "dask")`` without a scheduler starts and stops its own ``LocalCluster``) is run on both
constants as well.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from catalog_checks import result_lines
from scaleout_reference import check_same_as_serial, serial

from esma import executors
from esma.executors import LOCAL_CLUSTER_CONFIG, Workers, run_chunks

pytest.importorskip("distributed")
import dask
import distributed  # noqa: F401  (loads its configuration)
from dask.utils import parse_timedelta

# the small spaces of the equality tests; chunk_size=1 gives 12 chunks instead of 2, so there is something to
# distribute (results do not depend on the chunking: tests/esma covers that)
SMALL = {"coeff_limit": 1, "max_period": 3, "verify_digits": 300, "chunk_size": 1}
# a space with enough work left after the first result (56 chunks of tens of ms) for a kill to land mid-run
KILL = {"coeff_limit": 2, "max_period": 3, "verify_digits": 300, "chunk_size": 2}
CONSTANTS = ["e", "tan(1)"]


@pytest.fixture(scope="module")
def cluster():
    """An existing cluster for the ``scheduler=`` path: 2 worker processes, 1 thread each, and a client of
    the test's own to look at it (and to kill its workers)."""
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.WARNING,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # not 8787, which another cluster may hold
        ) as lc,
        Client(lc) as client,
    ):
        client.wait_for_workers(2, timeout=120)
        yield lc, client


@pytest.fixture
def scheduler(cluster) -> str:
    lc, client = cluster
    client.wait_for_workers(2, timeout=120)  # a worker killed by an earlier test is back
    return lc.scheduler_address


@pytest.mark.parametrize("expr", CONSTANTS)
def test_existing_scheduler_equals_serial(expr, scheduler, cluster) -> None:
    plan, *_ = serial(expr, SMALL)
    results = list(run_chunks(plan, range(len(plan.chunks)), "dask", scheduler=scheduler))
    check_same_as_serial(expr, SMALL, results)
    # both workers took part (12 chunks, 2 idle workers: the scheduler spreads them)
    _, client = cluster
    counts = client.run(lambda: "esma.search" in sys.modules)
    assert len(counts) == 2 and all(counts.values())


def test_own_local_cluster_equals_serial() -> None:
    """Without a scheduler, run_chunks starts a LocalCluster of ``workers`` processes and stops it after.

    (tan(1) here; e goes through an own cluster in the kill test below.)"""
    expr = "tan(1)"
    plan, *_ = serial(expr, SMALL)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    results = list(run_chunks(plan, range(len(plan.chunks)), "dask", workers=2))
    check_same_as_serial(expr, SMALL, results)
    # the cluster it started is gone with the run: no worker process outlives it
    deadline = time.monotonic() + 30
    while True:
        left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"worker processes outlived the run: {[p.cmdline() for p in left]}"


def test_killed_worker_on_existing_scheduler(scheduler, cluster) -> None:
    """SIGKILL the worker that holds tasks after the first result: the scheduler reschedules its chunks."""
    _, client = cluster
    plan, *_ = serial("tan(1)", KILL)
    gen = run_chunks(plan, range(len(plan.chunks)), "dask", scheduler=scheduler)
    results = [next(gen)]
    # the next task of the first result's stripe went out before that result was yielded, but a submit reaches
    # the scheduler asynchronously: wait until it holds a task (the other stripe's first one may be done)
    deadline = time.monotonic() + 30
    while not any((processing := client.processing()).values()) and time.monotonic() < deadline:
        time.sleep(0.005)
    victim = max(processing, key=lambda a: len(processing[a]))
    assert processing[victim], f"no chunk in flight to lose after the first result: {processing}"
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    results += list(gen)
    check_same_as_serial("tan(1)", KILL, results)
    assert victim not in client.scheduler_info()["workers"], "the kill did not land: the worker is still there"


def test_own_local_cluster_runs_without_the_profiler_and_with_slow_clocks(scheduler) -> None:
    """The cluster esma starts runs its workers without Dask's statistical profiler (it samples the running
    task's stack 100 times a second, for a dashboard this cluster has not), and its servers' health ticks and
    monitors at ``LOCAL_CLUSTER_CONFIG``'s intervals, not Dask's (a tick every 20 ms in every process), a
    worker started in place of a lost one included; a cluster given by address is left as its owner configured
    it, and so is the configuration of the client's process once the cluster is up."""
    plan, *_ = serial("e", SMALL)

    def ms(name: str, ours: bool = True) -> float:
        """An interval of ``LOCAL_CLUSTER_CONFIG`` (or Dask's own, in this process) in milliseconds."""
        return 1000 * parse_timedelta(LOCAL_CLUSTER_CONFIG[name] if ours else dask.config.get(name))

    tick, system, memory = ("distributed.admin.tick.interval", "distributed.admin.system-monitor.interval",
                            "distributed.worker.memory.monitor-interval")
    tick_ms, default_ms = ms(tick), ms(tick, ours=False)
    ours = (False, tick_ms, ms(system), ms(memory))
    assert tick_ms > default_ms and ms(system) > ms(system, ours=False) and ms(memory) > ms(memory, ours=False)

    def clocks(dask_worker) -> tuple[bool, float, float, float]:
        cb = dask_worker.periodic_callbacks
        return ("profile" in cb, cb["tick"].callback_time, cb["monitor"].callback_time,
                1000 * dask_worker.memory_manager.memory_monitor_interval)

    with Workers(plan, "dask", 2) as session:
        client = session._dask_client()
        client.wait_for_workers(2, timeout=120)
        first = client.run(clocks)
        assert len(first) == 2 and all(c == ours for c in first.values()), first
        assert session._cluster.scheduler.periodic_callbacks["tick"].callback_time == tick_ms
        victim = next(iter(first))
        os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(workers := set(client.scheduler_info()["workers"])) < 2 or victim in workers:
            assert time.monotonic() < deadline, f"no worker replaced the one killed: {workers}"
            time.sleep(0.2)
        again = client.run(clocks)
        assert victim not in again and len(again) == 2 and all(c == ours for c in again.values()), again
    assert ms(tick, ours=False) == default_ms  # this process's configuration is Dask's again
    with Workers(plan, "dask", scheduler=scheduler) as session:
        given = session._dask_client().run(clocks).values()
        assert given and all(profiled and t == default_ms for profiled, t, *_ in given), given


def test_prestarted_cluster_is_claimed_by_the_run_or_discarded(scheduler) -> None:
    """``prestart_cluster`` starts the LocalCluster in the background (while the caller plans); the next run of
    that many workers takes it, sends its workers the plan, and has the results of a serial run; one nobody
    claims is stopped, its worker processes with it, by ``discard_prestarted``."""
    plan, *_ = serial("e", SMALL)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    executors.prestart_cluster(2)
    starting = executors._PRESTARTED_CLUSTERS[2]
    with Workers(plan, "dask", 2) as session:
        # the workers hold the client's plan (sent, not built again) before any chunk
        key = (session.expr, session.params)
        held = session._dask_client().run(lambda: executors._PLANS[key].chunks == plan.chunks)
        assert list(held.values()) == [True, True], held
        results = list(session.chunks(range(len(plan.chunks))))
        assert session._cluster is starting.result() and not executors._PRESTARTED_CLUSTERS
        # a task's whole stay in a worker is one block with the collector paused (esma.memory)
        assert dict(session.map([(i, gc.isenabled, ()) for i in range(2)])) == {0: False, 1: False}
    check_same_as_serial("e", SMALL, results)

    executors.prestart_cluster(2)
    cluster = executors._PRESTARTED_CLUSTERS[2].result(timeout=120)
    started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert len(cluster.workers) == 2 and len(started) >= 2, started
    executors.discard_prestarted()
    assert not executors._PRESTARTED_CLUSTERS and cluster.status.name == "closed"
    _, alive = psutil.wait_procs(started, timeout=30)
    assert not alive, [p.cmdline() for p in alive]


def test_killed_worker_of_own_local_cluster(scheduler) -> None:
    """The same with the cluster ``run_chunks`` starts itself: kill one of its worker processes.

    (``scheduler``: the module cluster is whole again first, so that a replacement for the worker an earlier
    test killed is not mistaken for one of this run's workers.)"""
    plan, *_ = serial("e", KILL)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    gen = run_chunks(plan, range(len(plan.chunks)), "dask", workers=2)
    results = [next(gen)]
    workers = [
        p for p in psutil.Process().children(recursive=True)
        if p.pid not in before and "spawn_main" in " ".join(p.cmdline())
    ]
    assert len(workers) == 2, [p.cmdline() for p in workers]
    workers[0].kill()
    results += list(gen)
    assert not workers[0].is_running() or workers[0].status() == psutil.STATUS_ZOMBIE
    check_same_as_serial("e", KILL, results)


def test_workers_never_import_the_catalog(scheduler, cluster) -> None:
    _, client = cluster
    plan, *_ = serial("e", SMALL)
    list(run_chunks(plan, range(len(plan.chunks)), "dask", scheduler=scheduler))
    loaded = client.run(
        lambda: sorted(m for m in sys.modules if m.startswith(("esma.db", "esma.cli", "sqlalchemy", "alembic")))
    )
    assert len(loaded) == 2
    assert loaded == {addr: [] for addr in loaded}


def test_runner_progress_and_resume_on_dask(scheduler, tmp_path: Path) -> None:
    """The runner commits per chunk and reports (done, total) per chunk with dask too; a rerun resumes where a
    partial run stopped and ends with the catalog of an uninterrupted serial run."""
    from esma.cli import runner
    from esma.db import Catalog

    params = {"coeff_limit": 2, "max_period": 2, "verify_digits": 300, "chunk_size": 4}  # 18 chunks
    with Catalog(tmp_path / "ref.sqlite") as ref:
        job = runner.prepare(ref, "e", params)
        runner.run(ref, job, "serial")
        want = sorted(json.dumps({**c.to_dict(), "id": None, "family_id": None}, sort_keys=True)
                      for c in ref.conjectures())
    with Catalog(tmp_path / "dask.sqlite") as cat:
        job = runner.prepare(cat, "e", params)
        total = len(job.plan.chunks)
        assert total >= 10
        first = job.todo[:3]  # a partial run: three chunks committed, then "interrupted"
        for r in run_chunks(job.plan, first, "serial"):
            cat.commit_chunk(job.search_id, r.index, r.hits, r.candidates, r.seconds, r.scan_seconds, r.scanned)
        job = runner.prepare(cat, "e", params)  # the rerun: resumes the same search
        assert not set(first) & set(job.todo) and len(job.todo) == total - 3
        seen: list[tuple[int, int, int]] = []
        runner.run(cat, job, "dask", scheduler=scheduler, on_chunk=lambda res, d, t: seen.append((res.index, d, t)))
        assert [(d, t) for _, d, t in seen] == [(k, total) for k in range(4, total + 1)]
        assert sorted(i for i, _, _ in seen) == sorted(job.todo)
        assert job.summary["status"] == "done" and job.summary["chunks_done"] == total
        got = sorted(json.dumps({**c.to_dict(), "id": None, "family_id": None}, sort_keys=True)
                     for c in cat.conjectures())
    assert got == want and len(want) > 50


# ------------------------------------------------------------------------------------------------ command line

E_CLI = ["search", "e", "--coeff-limit", "2", "--max-period", "2", "--verify-digits", "300", "--json"]  # 14 chunks


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    env["PYTHONUNBUFFERED"] = "1"
    env["TERM"] = "xterm-256color"
    env["COLUMNS"] = "120"
    return env


def run_with_tty_stderr(args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str, str]:
    """Run the program with stderr on a pseudo-terminal (so the progress bar draws) and stdout on a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "esma.cli.main", *args],
        stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=_env(), cwd=cwd,
    )
    os.close(slave)
    chunks: list[bytes] = []
    out_parts: list[bytes] = []
    deadline = time.monotonic() + timeout
    fds = [master, proc.stdout.fileno()]
    while fds:
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"esma {' '.join(args)} did not finish in {timeout} s")
        ready, _, _ = select.select(fds, [], [], 0.5)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                data = b""
            if not data:
                fds.remove(fd)
            else:
                (chunks if fd == master else out_parts).append(data)
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, b"".join(out_parts).decode(), b"".join(chunks).decode(errors="replace")


def cli_records(stdout: str) -> list[str]:
    doc = json.loads(stdout)
    return sorted(json.dumps({**c, "id": None}, sort_keys=True) for c in doc["conjectures"])


@pytest.fixture(scope="module")
def cli_reference(tmp_path_factory) -> tuple[list[str], dict]:
    cwd = tmp_path_factory.mktemp("ref")
    proc = subprocess.run(
        [sys.executable, "-m", "esma.cli.main", *E_CLI, "--executor", "serial", "--db", str(cwd / "r.sqlite")],
        capture_output=True, text=True, env=_env(), cwd=cwd, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return cli_records(proc.stdout), json.loads(proc.stdout)["search"]


def test_cli_dask_progress_on_stderr_and_clean(cli_reference, tmp_path: Path) -> None:
    want, ref = cli_reference
    code, out, err = run_with_tty_stderr(
        [*E_CLI, "--executor", "dask", "--workers", "2", "--db", str(tmp_path / "d.sqlite")], tmp_path
    )
    assert code == 0, err
    assert cli_records(out) == want
    doc = json.loads(out)["search"]
    assert (doc["chunks_done"], doc["candidates"], doc["conjectures"]) == (
        ref["chunks_total"], ref["candidates"], ref["conjectures"]
    )
    # the progress bar drew the scan's candidates against their total, with a rate, then the families phase
    # up to its total
    assert f"/{ref['candidates']:,} candidates" in err, err[-2000:]
    assert "/s" in err
    families = ref["families"]
    assert f"{families}/{families} families" in err, err[-2000:]
    # and nothing else reached stderr: no cluster logging, warnings or tracebacks
    for noise in ("Traceback", "distributed.", "WARNING", "Warning", "ERROR"):
        assert noise not in err, err[-3000:]


def test_cli_dask_ctrl_c_is_one_clean_line_and_resumes(cli_reference, tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole process group, the LocalCluster's workers included: the client
    stops with one line (exit 130) and no worker traceback or log; the same command then resumes."""
    import sqlite3

    want, _ = cli_reference
    db = tmp_path / "i.sqlite"
    args = [*E_CLI, "--executor", "dask", "--workers", "2", "--db", str(db)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "esma.cli.main", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True, env=_env(), cwd=tmp_path, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        done = 0
        while done < 2:
            assert proc.poll() is None, "the search ended before it could be interrupted"
            assert time.monotonic() < deadline, "no chunk committed in time"
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                    done = con.execute("SELECT count(*) FROM search_chunks").fetchone()[0]
            except sqlite3.OperationalError:  # not created yet
                done = 0
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert out == ""
    assert "resume" in err
    assert len(result_lines(err)) == 1, err
    rerun = subprocess.run(
        [sys.executable, "-m", "esma.cli.main", *E_CLI, "--executor", "serial", "--db", str(db)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert cli_records(rerun.stdout) == want


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_cluster_commands(cli_reference, tmp_path: Path) -> None:
    """The README's recipe as written: ``dask scheduler``, ``dask worker ADDRESS --nthreads 1 --nworkers 2``,
    then ``esma search ... --executor dask --scheduler ADDRESS``."""
    from dask.distributed import Client

    want, _ = cli_reference
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    started: list[subprocess.Popen] = []

    def spawn(*args: str) -> None:
        started.append(subprocess.Popen(
            [sys.executable, "-m", "dask", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, env=_env(), cwd=tmp_path, start_new_session=True,
        ))

    try:
        spawn("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
        spawn("worker", address, "--nthreads", "1", "--nworkers", "2", "--no-dashboard")
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            assert all(w["nthreads"] == 1 for w in client.scheduler_info()["workers"].values())
        proc = subprocess.run(
            [sys.executable, "-m", "esma.cli.main", *E_CLI, "--executor", "dask", "--scheduler", address,
             "--db", str(tmp_path / "r.sqlite")],
            capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        assert cli_records(proc.stdout) == want
    finally:
        for p in reversed(started):  # workers first, then the scheduler; each in its own session
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=30)


def test_cli_dask_on_existing_scheduler(cli_reference, scheduler, tmp_path: Path) -> None:
    want, _ = cli_reference
    proc = subprocess.run(
        [sys.executable, "-m", "esma.cli.main", *E_CLI, "--executor", "dask", "--scheduler", scheduler,
         "--db", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert cli_records(proc.stdout) == want
    assert "Traceback" not in proc.stderr and "distributed." not in proc.stderr
    summary = result_lines(proc.stderr)  # the summary alone (no tty: no bar), a line per sentence
    assert summary[0].startswith("esma: searched"), proc.stderr
    assert all(line.startswith(("esma: stored", "esma: proved", "esma: catalog")) for line in summary[1:]), summary


def test_cli_unreachable_scheduler_fails_fast_with_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "u.sqlite"
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "esma.cli.main", *E_CLI, "--executor", "dask", "--scheduler",
         f"tcp://127.0.0.1:{port}", "--db", str(db)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0] and str(port) in lines[0], lines
    assert "Traceback" not in proc.stderr
    assert elapsed < 60  # the connect timeout, not Dask's 30 s per attempt and retries
    # nothing was computed, and the search is recorded as interrupted (a rerun resumes it)
    listed = subprocess.run(
        [sys.executable, "-m", "esma.cli.main", "list", "--db", str(db), "--json"],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"conjectures": []}
    import sqlite3

    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status, chunks_done FROM searches").fetchall() == [("interrupted", 0)]
