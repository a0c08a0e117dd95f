"""Several ``esma search`` clients writing one PostgreSQL catalog at the same time (a real server: see
tests/conftest.py; skipped with the reason when none is configured).

The final catalog must equal the union of the catalogs the same searches produce on their own: the same
conjecture records (compared as ``to_dict()`` without ``id``), no duplicate (constant, key), one search per
(constant, parameters), every chunk committed and counted once.  Each test starts from an empty database,
so the clients also race to create the schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from catalog_checks import check_searches_match

from esma.db import Catalog

E_ARGS = ["search", "e", "--coeff-limit", "2", "--max-period", "2", "--verify-digits", "300"]  # 9 chunks
TAN_ARGS = ["search", "tan(1)", "--coeff-limit", "1", "--max-period", "3", "--verify-digits", "300"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start(args: list[str], db: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "esma.cli.main", *args, "--json", "--db", db],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=_env(), cwd=cwd,
    )


def finish(procs: list[subprocess.Popen]) -> list[dict]:
    """Wait for every process; each must exit 0 with one JSON document on stdout and no traceback."""
    docs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
            assert "Traceback" not in err, err
            docs.append(json.loads(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return docs


def snapshot(url: str) -> dict:
    """What a catalog holds, independent of ids and timestamps."""
    with Catalog(url) as cat:
        conjs = cat.conjectures()
        searches = cat.searches()
        linked = {s["id"]: sorted(c.id for c in cat.search_conjectures(s["id"])) for s in searches}
        chunks = {s["id"]: cat.done_chunks(s["id"]) for s in searches}
    records = sorted(json.dumps({**c.to_dict(), "id": None, "family_id": None}, sort_keys=True) for c in conjs)
    return {"records": records, "conjectures": conjs, "searches": searches, "linked": linked, "chunks": chunks}


@pytest.fixture(scope="module")
def refs(postgres_server, tmp_path_factory) -> dict[str, dict]:
    """Each search run alone (serial) into its own fresh PostgreSQL database."""
    cwd = tmp_path_factory.mktemp("pgref")
    out = {}
    for name, args in (("e", E_ARGS), ("tan(1)", TAN_ARGS)):
        url = postgres_server.create()
        try:
            finish([start([*args, "--executor", "serial"], url, cwd)])
            out[name] = snapshot(url)
        finally:
            postgres_server.drop(url)
        assert len(out[name]["records"]) > 50
        assert [s["status"] for s in out[name]["searches"]] == ["done"]
    return out


def check_union(snap: dict, *refs: dict) -> None:
    union = sorted(r for ref in refs for r in ref["records"])
    assert len(snap["records"]) == len(union), "conjectures were lost or duplicated"
    assert snap["records"] == union
    check_searches_match(snap, {s["constant"]: s for ref in refs for s in ref["searches"]})


def test_two_constants_at_once(refs, postgres_url, tmp_path: Path) -> None:
    """e and tan(1) at once, on different executors, into one fresh database."""
    procs = [
        start([*E_ARGS, "--executor", "serial"], postgres_url, tmp_path),
        start([*TAN_ARGS, "--executor", "process", "--workers", "2"], postgres_url, tmp_path),
    ]
    doc_e, doc_tan = finish(procs)
    assert len(doc_e["conjectures"]) == len(refs["e"]["records"])
    assert len(doc_tan["conjectures"]) == len(refs["tan(1)"]["records"])
    snap = snapshot(postgres_url)
    check_union(snap, refs["e"], refs["tan(1)"])
    # the two searches really ran at the same time (otherwise this test would prove nothing)
    a, b = snap["searches"]
    assert a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"], (a, b)


def test_same_search_twice_at_once(refs, postgres_url, tmp_path: Path) -> None:
    """The same search twice at once: one search row, each chunk committed by whichever client got there
    first, each conjecture stored once, and both clients report the same catalog."""
    procs = [start([*E_ARGS, "--executor", "serial"], postgres_url, tmp_path) for _ in range(2)]
    docs = finish(procs)
    assert docs[0]["search"]["id"] == docs[1]["search"]["id"], "the same search was registered twice"
    ids = [sorted(c["id"] for c in d["conjectures"]) for d in docs]
    assert ids[0] == ids[1] and len(ids[0]) == len(refs["e"]["records"])
    check_union(snapshot(postgres_url), refs["e"])


def test_resume_into_postgres(refs, postgres_url, tmp_path: Path) -> None:
    """A search killed mid-run resumes from the PostgreSQL checkpoints to the uninterrupted catalog."""
    import time

    from sqlalchemy import create_engine, text

    proc = start([*E_ARGS, "--executor", "serial"], postgres_url, tmp_path)
    engine = create_engine(postgres_url)
    try:
        deadline = time.monotonic() + 300
        done = 0
        while done < 3:
            assert proc.poll() is None, "the search ended before it could be killed"
            assert time.monotonic() < deadline, "no chunk committed in time"
            try:
                with engine.connect() as conn:
                    done = conn.execute(text("SELECT count(*) FROM search_chunks")).scalar()
            except Exception:  # the schema is not there yet
                done = 0
            time.sleep(0.01)
        proc.kill()
        proc.communicate()
        with engine.connect() as conn:
            saved = conn.execute(text("SELECT count(*) FROM search_chunks")).scalar()
    finally:
        engine.dispose()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert 3 <= saved < 9, f"the kill did not land mid-search ({saved} chunks saved)"
    [doc] = finish([start([*E_ARGS, "--executor", "process", "--workers", "2"], postgres_url, tmp_path)])
    assert doc["search"]["chunks_done"] == 9
    check_union(snapshot(postgres_url), refs["e"])
