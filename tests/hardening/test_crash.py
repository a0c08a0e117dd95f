"""Crash safety: ``esma search`` killed with SIGKILL at seeded random moments, again and again.

Every kill must leave a catalog that passes ``PRAGMA integrity_check`` and is consistent (the search's
counters agree with its committed checkpoints and links), and rerunning the command must end with exactly the
catalog of an uninterrupted run: the same conjectures (``to_dict()`` minus ``id``) and the same counters.

Each seed starts a fresh catalog and kills the search one to three times before letting it finish.  A kill
lands either at a uniformly random time after the start (start-up, migrations and planning included) or a
random fraction of a chunk after a random number of chunks were committed (mid-chunk and mid-commit).  The CI
variant makes about 5 kills; the slow one (``ESMA_SLOW=1 pytest -m slow tests/hardening``) about 50.

SIGINT is the polite kill: the chunk in flight is committed, the search is marked ``interrupted``, exit code
130, and one line on stderr says how to resume.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalog_checks import chunks_committed as committed

from esma.db import Catalog

ESMA = [sys.executable, "-m", "esma.cli.main"]
ARGS = ["search", "e", "--coeff-limit", "2", "--max-period", "2", "--verify-digits", "300", "--executor", "serial"]
CHUNKS = 9
SLOW = pytest.mark.skipif(os.environ.get("ESMA_SLOW") != "1", reason="slow: set ESMA_SLOW=1 to run (a few minutes)")

#: Figures of the kill runs of this session, printed at the end (``pytest -s``) and checked by the tests.
FIGURES: dict[str, int] = {"kills": 0, "mid_search": 0, "before_first_chunk": 0, "reruns": 0}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start(db: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*ESMA, *ARGS, "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=_env(), cwd=cwd, start_new_session=True)


def run_to_end(db: Path, cwd: Path) -> dict:
    res = subprocess.run([*ESMA, *ARGS, "--json", "--db", str(db)], capture_output=True, text=True, env=_env(),
                         cwd=cwd, timeout=300, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def check_after_kill(db: Path) -> int:
    """Integrity and consistency of a catalog whose writer was just killed; returns the chunks committed."""
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=30)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "searches" not in tables:  # killed while the schema was being created: nothing else to check
            return 0
        searches = con.execute("SELECT id, status, chunks_done, chunks_total, conjectures FROM searches").fetchall()
        assert len(searches) <= 1, searches
        if not searches:
            return 0
        [(sid, status, done, total, nconj)] = searches
        chunk_rows = con.execute("SELECT chunk_index FROM search_chunks WHERE search_id = ?", (sid,)).fetchall()
        links = con.execute("SELECT count(*) FROM search_conjectures WHERE search_id = ?", (sid,)).fetchone()[0]
        stored = con.execute("SELECT count(*) FROM conjectures").fetchone()[0]
        dup = con.execute("SELECT count(*) FROM (SELECT constant_id, key FROM conjectures GROUP BY 1, 2 "
                          "HAVING count(*) > 1)").fetchone()[0]
    finally:
        con.close()
    assert done == len(chunk_rows) == len({r[0] for r in chunk_rows}), "counter and checkpoints disagree"
    assert all(0 <= r[0] < total for r in chunk_rows)
    assert total == CHUNKS
    assert nconj == links == stored, "conjecture counter, links and rows disagree"
    assert dup == 0
    assert status != "done" or done == CHUNKS
    return done


def records(db: Path) -> list[dict]:
    with Catalog(str(db)) as cat:
        rows = [c.to_dict() for c in cat.conjectures()]
    for r in rows:  # row ids (the formula's and its family's) depend on the order of insertion
        r.pop("id")
        r.pop("family_id")
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def same_as_reference(doc: dict, db: Path, reference) -> None:
    ref_doc, ref_records = reference
    s, r = doc["search"], ref_doc["search"]
    assert s["status"] == "done" and s["chunks_done"] == s["chunks_total"] == CHUNKS
    for k in ("constant", "params", "candidates", "hits", "conjectures"):
        assert s[k] == r[k], k
    assert check_after_kill(db) == CHUNKS
    got = records(db)
    assert len(got) == len(ref_records)
    assert got == ref_records
    assert sorted(json.dumps({k: v for k, v in c.items() if k not in ("id", "family_id")}, sort_keys=True)
                  for c in doc["conjectures"]) \
        == sorted(json.dumps(c, sort_keys=True) for c in ref_records)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("ref")
    db = cwd / "ref.sqlite"
    doc = run_to_end(db, cwd)
    assert doc["search"]["chunks_total"] == CHUNKS and len(doc["conjectures"]) > 0
    return doc, records(db)


def kill_at_random_moment(db: Path, cwd: Path, rng: random.Random) -> bool:
    """Start the search and SIGKILL it at a random moment; False if it finished first."""
    proc = start(db, cwd)
    try:
        if rng.random() < 0.3:
            time.sleep(rng.uniform(0.0, 3.0))  # anywhere: start-up, schema, planning, chunks
        else:
            target = min(committed(db) + rng.randint(1, 4), CHUNKS - 1)
            deadline = time.monotonic() + 120
            while committed(db) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.2))  # a random part of the next chunk (about 0.1 s) or its commit
        if proc.poll() is not None:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            return False
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        return True
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)


def kill_cycle(seed: int, tmp_path: Path, reference, max_kills: int) -> int:
    """Fresh catalog: 1..max_kills random SIGKILLs (each checked), then a rerun to the end (compared)."""
    rng = random.Random(seed)
    db = tmp_path / f"kill-{seed}.sqlite"
    kills = 0
    for _ in range(rng.randint(1, max_kills)):
        before = committed(db)
        if not kill_at_random_moment(db, tmp_path, rng):
            break
        kills += 1
        after = check_after_kill(db)
        assert after >= before, "a kill lost committed chunks"
        FIGURES["kills"] += 1
        FIGURES["mid_search"] += 0 < after < CHUNKS
        FIGURES["before_first_chunk"] += after == 0
    doc = run_to_end(db, tmp_path)
    FIGURES["reruns"] += 1
    same_as_reference(doc, db, reference)
    return kills


def kill_many(reference, tmp_path, kills_wanted: int, first_seed: int, max_kills: int) -> int:
    kills, seed = 0, first_seed
    while kills < kills_wanted:
        kills += kill_cycle(seed, tmp_path, reference, max_kills)
        seed += 1
    print(f"\ncrash figures: {FIGURES}")
    return kills


def test_sigkill_at_random_moments(reference, tmp_path):
    """CI variant: 5 kills (or one or two more), each in a fresh catalog or a resumed one."""
    assert kill_many(reference, tmp_path, 5, first_seed=101, max_kills=2) >= 5


@pytest.mark.slow
@SLOW
def test_sigkill_at_random_moments_many(reference, tmp_path):
    """Slow variant: 50 kills (or one or two more)."""
    before = dict(FIGURES)
    assert kill_many(reference, tmp_path, 50, first_seed=1000, max_kills=3) >= 50
    assert FIGURES["mid_search"] - before["mid_search"] >= 20, FIGURES


def test_sigint_commits_the_chunk_in_flight_and_says_how_to_resume(reference, tmp_path):
    db = tmp_path / "c.sqlite"
    proc = start(db, tmp_path)
    try:
        deadline = time.monotonic() + 120
        while committed(db) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        seen = committed(db)
        assert 3 <= seen < CHUNKS - 2, f"the signal must land mid-search ({seen=})"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == ""
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    done = check_after_kill(db)
    # the chunk running at the signal is finished and committed (+1; +2 if a commit slipped in between the
    # count above and the signal), and the line reports what is actually saved
    assert seen + 1 <= done <= seen + 2, (seen, done)
    assert "once the chunk in flight was saved" in line
    assert f"{done}/{CHUNKS} chunks" in line and "run the same command again to resume" in line
    con = sqlite3.connect(f"file:{db}?mode=rw", uri=True)
    try:
        assert con.execute("SELECT status FROM searches").fetchall() == [("interrupted",)]
    finally:
        con.close()
    same_as_reference(run_to_end(db, tmp_path), db, reference)


def test_second_sigint_aborts_at_once_and_rolls_back(tmp_path):
    """In-process, on a real catalog: the first SIGINT asks to stop, the second raises at once; what was
    committed stays, the search is left ``interrupted`` and the previous SIGINT handler is restored."""
    from esma.cli import runner

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this process")
    before = signal.getsignal(signal.SIGINT)
    db = tmp_path / "c.sqlite"
    seen: list[int] = []
    requests: list[int] = []

    def on_chunk(result, done, total):
        seen.append(done)
        if done == 2:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs: a stop is requested
            assert requests == [2]
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the second one raises KeyboardInterrupt here
            pytest.fail("the second SIGINT did not abort")

    with Catalog(str(db)) as cat:
        job = runner.prepare(cat, "e", {"coeff_limit": 2, "max_period": 2, "verify_digits": 300})
        with pytest.raises(KeyboardInterrupt):
            runner.run(cat, job, "serial", on_chunk=on_chunk, graceful_sigint=True,
                       on_stop_request=lambda: requests.append(seen[-1]))
        assert job.stopped is None  # aborted, not a graceful stop
        summary = cat.search_summary(job.search_id)
        assert summary["status"] == "interrupted" and summary["chunks_done"] == 2
        assert cat.done_chunks(job.search_id) == {0, 1}
    assert signal.getsignal(signal.SIGINT) is before


def test_first_sigint_between_chunks_stops_after_the_committed_one(tmp_path):
    from esma.cli import runner

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this process")
    db = tmp_path / "c.sqlite"

    def on_chunk(result, done, total):
        if done == 5:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)

    with Catalog(str(db)) as cat:
        job = runner.prepare(cat, "e", {"coeff_limit": 2, "max_period": 2, "verify_digits": 300})
        with pytest.raises(KeyboardInterrupt):
            runner.run(cat, job, "serial", on_chunk=on_chunk, graceful_sigint=True)
        assert job.stopped == "sigint"
        summary = cat.search_summary(job.search_id)
        assert summary["status"] == "interrupted" and summary["chunks_done"] == 5
        job = runner.prepare(cat, "e", {"coeff_limit": 2, "max_period": 2, "verify_digits": 300})
        assert len(job.todo) == CHUNKS - 5
        runner.run(cat, job, "serial")
        assert job.stopped is None and job.summary["status"] == "done" and job.summary["chunks_done"] == CHUNKS
