"""Shared fixtures for the command-line tests.

Helpers are fixtures (not importable functions) because the suite runs with ``--import-mode=importlib`` and
test directories are not packages.

* ``esma_run`` / ``esma_popen`` run the real program as a subprocess (``python -m esma.cli.main``), in a
  scratch working directory and without ``ESMA_DB`` / ``ESMA_DEBUG`` from the caller's environment.
* ``esma_main`` calls ``esma.cli.main.main`` (the console entry point with the exit-code contract)
  in-process and returns ``(code, stdout, stderr)``.
* ``tan_search`` and ``e_reference`` are searches run once per session; tests that write to a catalog work
  on a copy (``copy_db``), never on these.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from catalog_checks import chunks_committed as _chunks_committed
from web_helpers import copy_catalog

from esma.db import Catalog

ESMA = [sys.executable, "-m", "esma.cli.main"]

#: The search of the JSON contract test (DESIGN section 3); about 5 s.
TAN_SEARCH = ["search", "tan(1)", "--max-period", "3", "--coeff-limit", "1", "--json"]
#: A search with 9 chunks of about 0.1 s each (the crash and concurrency tests kill it between chunks).
E_SEARCH = ["search", "e", "--coeff-limit", "2", "--max-period", "2", "--verify-digits", "300"]
E_CHUNKS = 9


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ESMA_DB", None)
    env.pop("ESMA_DEBUG", None)
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


@pytest.fixture(scope="session")
def scratch_cwd(tmp_path_factory) -> Path:
    """Working directory of every subprocess: a stray default ./esma.sqlite never lands in the repository."""
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="session")
def esma_run(scratch_cwd):
    def run(*args: Any, env: dict[str, str] | None = None, timeout: float = 300) -> Result:
        proc = subprocess.run(
            [*ESMA, *map(str, args)],
            capture_output=True,
            text=True,
            env=_env(env),
            cwd=scratch_cwd,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def esma_popen(scratch_cwd):
    """Start the program in its own session (process group) so a test can signal it and its workers."""
    started: list[subprocess.Popen] = []

    def popen(*args: Any, env: dict[str, str] | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            [*ESMA, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_env(env),
            cwd=scratch_cwd,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield popen
    for proc in started:  # only the groups this fixture started, by their id
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)


@pytest.fixture
def esma_main(capsys, monkeypatch, tmp_path):
    """``main(argv)`` in-process: returns Result(exit code, stdout, stderr)."""
    from esma.cli.main import main

    monkeypatch.delenv("ESMA_DB", raising=False)
    monkeypatch.delenv("ESMA_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*args: Any) -> Result:
        capsys.readouterr()
        code: Any = None
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        assert code is not None, "main() must always end with sys.exit"
        return Result(int(code), out, err)

    return run


# ------------------------------------------------------------------------------------------------ catalogs




@pytest.fixture(scope="session")
def copy_db():
    return copy_catalog


def strip_id(d: dict) -> dict:
    """A record without its row ids (its own and its family's), which depend on the order of insertion."""
    d = dict(d)
    d.pop("id", None)
    d.pop("family_id", None)
    return d


def _snapshot(db: Path | str) -> dict[str, Any]:
    """What a catalog holds, in a form that does not depend on insertion order (ids, timestamps)."""
    with Catalog(str(db)) as cat:
        conjs = cat.conjectures()
        searches = cat.searches()
        linked = {s["id"]: [c.id for c in cat.search_conjectures(s["id"])] for s in searches}
        chunks = {s["id"]: cat.done_chunks(s["id"]) for s in searches}
    con = sqlite3.connect(f"file:{db}?mode=rw", uri=True)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        chunk_rows = dict(con.execute("SELECT search_id, count(*) FROM search_chunks GROUP BY search_id"))
    finally:
        con.close()
    records = sorted((strip_id(c.to_dict()) for c in conjs), key=lambda d: json.dumps(d, sort_keys=True))
    return {
        "records": records,
        "conjectures": conjs,
        "searches": searches,
        "linked": linked,
        "chunks": chunks,
        "chunk_rows": chunk_rows,
        "integrity": [r[0] for r in integrity],
    }


@pytest.fixture(scope="session")
def snapshot():
    return _snapshot


@pytest.fixture(scope="session")
def chunks_committed():
    return _chunks_committed


@pytest.fixture(scope="session")
def wait_for_chunks():
    def wait(proc: subprocess.Popen, db: Path, k: int, timeout: float = 180) -> int:
        """Poll until the catalog has >= k committed chunks; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while True:
            n = _chunks_committed(db)
            if n >= k:
                return n
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"search ended (exit {proc.returncode}) after {n} chunks, before {k}: {err[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {k} chunks committed within {timeout} s")
            time.sleep(0.003)

    return wait


@dataclass
class SearchRun:
    db: Path
    args: list[str]
    result: Result
    doc: dict | None


@pytest.fixture(scope="session")
def tan_search(tmp_path_factory, esma_run) -> SearchRun:
    """``esma search "tan(1)" --max-period 3 --coeff-limit 1 --json`` into a fresh catalog, once."""
    db = tmp_path_factory.mktemp("tan") / "c.sqlite"
    res = esma_run(*TAN_SEARCH, "--db", db)
    assert res.code == 0, res.stderr
    return SearchRun(db, [*TAN_SEARCH], res, json.loads(res.stdout))


@pytest.fixture(scope="session")
def e_reference(tmp_path_factory, esma_run) -> SearchRun:
    """The 14-chunk e search, uninterrupted and serial: the reference of the crash and concurrency tests."""
    db = tmp_path_factory.mktemp("eref") / "a.sqlite"
    res = esma_run(*E_SEARCH, "--executor", "serial", "--json", "--db", db)
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["search"]["chunks_total"] == E_CHUNKS
    return SearchRun(db, [*E_SEARCH], res, doc)
