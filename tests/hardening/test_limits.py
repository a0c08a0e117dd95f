"""Resource limits: absurd requests are refused (exit 2, one line naming ``--yes``) unless confirmed, and
``--max-seconds`` bounds a search, which stays resumable.

``esma.limits`` is tested on real plans (no stand-ins); the command line through ``esma.cli.main.main``
in-process (the exit-code wrapper itself) and, where the process boundary matters, as a real subprocess.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from web_helpers import copy_catalog

from esma import limits
from esma.db import Catalog
from esma.scf import sign_periods
from esma.search import SearchParams, plan_search

ESMA = [sys.executable, "-m", "esma.cli.main"]
E_SEARCH = ["search", "e", "--coeff-limit", "2", "--max-period", "2", "--verify-digits", "300"]
E_CHUNKS = 9


def esma_run(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    return subprocess.run([*ESMA, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def esma_main(capsys, monkeypatch, tmp_path):
    """``main(argv)`` in-process; returns (exit code, stdout, stderr)."""
    from esma.cli.main import main

    monkeypatch.delenv("ESMA_DB", raising=False)
    monkeypatch.delenv("ESMA_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return int(exc.value.code), out, err

    return run


def records(db) -> list[dict]:
    with Catalog(str(db)) as cat:
        rows = [c.to_dict() for c in cat.conjectures()]
    for r in rows:  # row ids (the formula's and its family's) depend on the order of insertion
        r.pop("id")
        r.pop("family_id")
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def search_rows(db) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT id, status, chunks_done, chunks_total FROM searches").fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------------------------- esma.limits


@pytest.mark.parametrize("hi", range(1, 13))
def test_period_count_matches_the_enumeration(hi):
    for lo in range(1, hi + 1):
        assert limits.period_count(lo, hi) == len(sign_periods(lo, hi)), (lo, hi)


def test_period_count_at_the_largest_periods():
    assert limits.period_count(1, 16) == len(sign_periods(1, 16)) == 130_486
    assert limits.period_count(16, 16) == 2**16
    assert limits.period_count(8, 16) == len(sign_periods(8, 16))


@pytest.mark.parametrize(("expr", "degree", "coeff_limit", "max_period"), [
    ("e", 1, 1, 4), ("e", 1, 2, 4), ("e", 1, 3, 2), ("pi", 2, 1, 3), ("2**(1/3)", 1, 2, 4), ("sqrt(2)", 1, 2, 1),
])
def test_candidate_bound_is_an_upper_bound_and_not_a_loose_one(expr, degree, coeff_limit, max_period):
    params = {"degree": degree, "coeff_limit": coeff_limit, "max_period": max_period}
    plan = plan_search(expr, **params)
    bound = limits.candidate_bound(SearchParams(**params))
    assert plan.candidates <= bound
    if expr != "sqrt(2)":  # sqrt(2) is algebraic of degree 2: many transforms coincide in value
        assert plan.candidates >= 0.7 * bound, (plan.candidates, bound)
    assert bound % len(plan.periods) == 0
    n = limits.coefficient_vectors(degree, coeff_limit)
    assert bound == n * n * len(plan.periods)


def test_defaults_and_values_at_the_limits_are_not_absurd():
    assert limits.request_problems(SearchParams()) == []
    assert limits.plan_problems(plan_search("e")) == []
    at = SearchParams(digits=limits.MAX_DIGITS, verify_digits=limits.MAX_DIGITS)
    assert limits.request_problems(at) == []
    assert limits.request_problems(SearchParams(depth=limits.MAX_DIGITS // 5)) == []  # scan: 5 digits a term


@pytest.mark.parametrize(("params", "words"), [
    ({"digits": 10**6 + 1}, ["--digits 1,000,001", "1,000,000 digits"]),
    ({"verify_digits": 10**6 + 1}, ["--verify-digits 1,000,001", "1,000,000 digits"]),
    ({"depth": 200_001}, ["--depth 200,001", "1,000,005 digits"]),
    ({"depth": 5000, "digits": 500, "max_period": 16}, ["1 transforms x 130,486 sign periods x 5,000 terms", "GiB"]),
    ({"degree": 2, "coeff_limit": 13}, ["up to 2,130,596,182 candidates", "22 sign periods", "1,000,000,000"]),
])
def test_request_problems_name_the_figure(params, words):
    [reason] = limits.request_problems(SearchParams(**params))
    for w in words:
        assert w in reason, (w, reason)
    assert "\n" not in reason


def test_several_problems_are_all_reported():
    reasons = limits.request_problems(SearchParams(digits=2 * 10**6, verify_digits=3 * 10**6))
    assert len(reasons) == 2
    assert "--digits 2,000,000" in reasons[0] and "--verify-digits 3,000,000" in reasons[1]


def test_a_cheap_layout_defers_the_count_to_the_exact_plan():
    """Over the limit by its bound, but cheap to lay out: only the plan's exact count decides."""
    params = SearchParams(coeff_limit=9, max_period=14)
    assert limits.candidate_bound(params) == 1_052_222_400 > limits.MAX_CANDIDATES
    assert limits.request_problems(params) == []
    plan = plan_search("pi", coeff_limit=9, max_period=14)
    assert plan.candidates == 967_005_376 < limits.MAX_CANDIDATES  # just under: not absurd
    assert limits.plan_problems(plan) == []


def test_plan_over_a_billion_candidates_is_absurd():
    plan = plan_search("pi", coeff_limit=7, max_period=16)
    assert plan.candidates == 1_508_418_160
    [reason] = limits.plan_problems(plan)
    assert "1,508,418,160 candidates (11,560 transforms x 130,486 sign periods)" in reason
    assert "1,000,000,000" in reason


def test_chunk_bytes_follows_the_scan_layout():
    p = SearchParams(depth=100, max_period=2)
    assert limits.chunk_bytes(p) == 8 * 4 * p.deep_terms * 8  # periods +, -, +-, -+; the deep search's terms
    assert limits.chunk_bytes(SearchParams(depth=100, max_period=2, max_qperiod=0)) == 8 * 4 * 100 * 8
    assert limits.chunk_bytes(p, periods=1, transforms=1) == p.deep_terms * 8


# ------------------------------------------------------------------------------------------ command line

REFUSED = {
    "candidates-plan": (["pi", "--coeff-limit", "7", "--max-period", "16"], "1,508,418,160 candidates"),
    "candidates-bound": (["pi", "--degree", "2", "--coeff-limit", "13"], "up to 2,130,596,182 candidates"),
    "digits": (["e", "--digits", "1000001"], "--digits 1,000,001"),
    "verify-digits": (["e", "--verify-digits", "1000001"], "--verify-digits 1,000,001"),
    "depth": (["e", "--depth", "200001"], "--depth 200,001"),
    "memory": (["e", "--depth", "5000", "--digits", "500", "--max-period", "16"], "GiB"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_absurd_request_is_refused_before_any_work(esma_main, tmp_path, case):
    args, figure = REFUSED[case]
    db = tmp_path / "c.sqlite"
    code, out, err = esma_main("search", *args, "--db", db)
    assert code == 2, err
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("esma: error: refusing an absurd request: ")
    assert figure in line and "--yes" in line
    assert not db.exists(), "a refused request must not even create the catalog"


def test_bad_max_seconds_is_bad_usage(esma_main, tmp_path):
    for bad in ("0", "-1", "nan", "inf", "soon"):
        code, out, err = esma_main("search", "e", "--max-seconds", bad, "--db", tmp_path / "c.sqlite")
        assert code == 2, (bad, err)
        assert out == "" and len(err.splitlines()) == 1 and "max-seconds" in err, (bad, err)


def test_yes_confirms_an_absurd_request(tmp_path):
    """pi has no formula in this space, so 2 million approval digits are never spent: the run is short."""
    db = tmp_path / "c.sqlite"
    args = ["search", "pi", "--coeff-limit", "1", "--max-period", "1", "--verify-digits", "2000000", "--db", db]
    refused = esma_run(*args, cwd=tmp_path)
    assert refused.returncode == 2 and "--yes" in refused.stderr and not db.exists()
    res = esma_run(*args, "--yes", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["search"]["status"] == "done" and doc["search"]["params"]["verify_digits"] == 2_000_000
    assert doc["search"]["candidates"] == 12 * 2 and doc["conjectures"] == []


def test_values_at_the_limit_run_without_yes(esma_main, tmp_path):
    code, _, err = esma_main("search", "pi", "--coeff-limit", "1", "--max-period", "1", "--executor", "serial",
                             "--verify-digits", str(limits.MAX_DIGITS), "--db", tmp_path / "c.sqlite")
    assert code == 0, err
    assert "absurd" not in err


@pytest.fixture(scope="module")
def e_reference(tmp_path_factory):
    """The 9-chunk e search, uninterrupted."""
    cwd = tmp_path_factory.mktemp("ref")
    db = cwd / "ref.sqlite"
    res = esma_run(*E_SEARCH, "--executor", "serial", "--json", "--db", db, cwd=cwd)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["search"]["chunks_total"] == E_CHUNKS and doc["search"]["status"] == "done"
    return doc, records(db)


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_max_seconds_stops_after_the_chunk_that_crosses_it(e_reference, tmp_path, executor):
    ref_doc, ref_records = e_reference
    db = tmp_path / "c.sqlite"
    extra = ["--executor", executor] + (["--workers", "2"] if executor == "process" else [])
    res = esma_run(*E_SEARCH, *extra, "--max-seconds", "0.001", "--json", "--db", db, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    s = doc["search"]
    assert s["status"] == "interrupted"
    if executor == "serial":  # planning alone takes longer than 1 ms: the first chunk crosses the limit
        assert s["chunks_done"] == 1
    assert 1 <= s["chunks_done"] < E_CHUNKS
    assert len(doc["conjectures"]) == s["conjectures"] > 0
    last = res.stderr.strip().splitlines()[-1]
    assert "--max-seconds 0.001" in last and f"{s['chunks_done']}/{E_CHUNKS} chunks" in last and "resume" in last
    [(sid, status, done, total)] = search_rows(db)
    assert (sid, status, done, total) == (s["id"], "interrupted", s["chunks_done"], E_CHUNKS)

    rerun = esma_run(*E_SEARCH, *extra, "--json", "--db", db, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    final = json.loads(rerun.stdout)["search"]
    assert final["id"] == sid and final["status"] == "done" and final["chunks_done"] == E_CHUNKS
    for k in ("candidates", "hits", "conjectures"):
        assert final[k] == ref_doc["search"][k], k
    assert records(db) == ref_records


def test_max_seconds_long_enough_finishes_the_search(e_reference, tmp_path):
    db = tmp_path / "c.sqlite"
    res = esma_run(*E_SEARCH, "--executor", "serial", "--max-seconds", "3600", "--json", "--db", db, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["search"]["status"] == "done"
    assert "max-seconds" not in res.stderr
    assert records(db) == e_reference[1]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ESMA_SLOW") != "1", reason="slow: set ESMA_SLOW=1 to run (about a minute)")
def test_yes_with_max_seconds_bounds_an_absurd_space(tmp_path):
    """Over a billion candidates, confirmed, and bounded: one chunk (about a million candidates), then a clean
    stop that leaves the search resumable."""
    db = tmp_path / "c.sqlite"
    args = ["search", "pi", "--coeff-limit", "7", "--max-period", "16", "--executor", "serial", "--db", db]
    res = esma_run(*args, "--yes", "--max-seconds", "1", "--json", cwd=tmp_path, timeout=900)
    assert res.returncode == 0, res.stderr
    s = json.loads(res.stdout)["search"]
    assert s["status"] == "interrupted" and s["chunks_done"] == 1
    assert s["candidates"] == 8 * 130_486
    assert s["chunks_total"] == math.ceil(11_560 / 8)


# ------------------------------------------------------------------------------------- limits outside search


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory) -> Path:
    """A catalog with formulas (#1 among them), made by a real search; tests work on copies."""
    cwd = tmp_path_factory.mktemp("small")
    db = cwd / "small.sqlite"
    res = esma_run("search", "e", "--coeff-limit", "1", "--max-period", "2", "--verify-digits", "300",
                   "--executor", "serial", "--db", db, cwd=cwd)
    assert res.returncode == 0, res.stderr
    with Catalog(str(db)) as cat:
        assert cat.get(1) is not None
    return db




#: Each over-the-bound request outside ``search``, and the bound its one line must name.
OUT_OF_BOUNDS = {
    "verify-digits": (["verify", "1", "--verify-digits", "10000000"], f"{limits.MAX_DIGITS:,}"),
    "expand-terms": (["expand", "e", "--terms", "10000000"], f"{limits.MAX_TERMS:,}"),
    "expand-digits": (["expand", "e", "--digits", "10000000"], f"{limits.MAX_DIGITS:,}"),
    "show-huge-id": (["show", str(10**26)], f"{limits.MAX_INTEGER:,}"),
    "verify-huge-id": (["verify", str(10**26)], f"{limits.MAX_INTEGER:,}"),
    "show-superscript-id": (["show", "²"], "ASCII digits"),
    "show-arabic-indic-id": (["show", "\u0661"], "ASCII digits"),  # int() reads it as 1
    "verify-arabic-indic-id": (["verify", "\u0661"], "ASCII digits"),
    "show-members": (["show", "1", "--members", str(10**22)], f"{limits.MAX_INTEGER:,}"),
    "list-min-digits": (["list", "--min-digits", str(10**23)], f"{limits.MAX_INTEGER:,}"),
    "families-min-digits": (["families", "--min-digits", str(10**23)], f"{limits.MAX_INTEGER:,}"),
    "families-limit": (["families", "--limit", str(10**23)], f"{limits.MAX_INTEGER:,}"),
    "search-workers": (["search", "e", "--coeff-limit", "1", "--max-period", "1", "--workers", str(10**20)],
                       f"{limits.MAX_WORKERS:,}"),
    "search-limit": (["search", "e", "--coeff-limit", "1", "--max-period", "1", "--limit", str(10**23)],
                     f"{limits.MAX_INTEGER:,}"),
}


@pytest.mark.parametrize("case", list(OUT_OF_BOUNDS))
def test_bounds_outside_search_are_refused_at_once(esma_main, small_catalog, tmp_path, case):
    """Exit 2 and one line naming the documented bound, before any work (the catalog is not even changed)."""
    import time

    args, bound = OUT_OF_BOUNDS[case]
    db = copy_catalog(small_catalog, tmp_path / "c.sqlite")
    before = records(db)
    t0 = time.perf_counter()
    code, out, err = esma_main(*args, *([] if args[0] == "expand" else ["--db", db]))
    seconds = time.perf_counter() - t0
    assert code == 2, err
    assert out == ""
    [line] = err.splitlines()
    assert bound in line, line
    assert seconds < 1.0, f"refused after {seconds:.1f} s"
    assert records(db) == before


@pytest.mark.parametrize("args", [["show", "1"], ["verify", "1"], ["show", str(limits.MAX_INTEGER)]])
def test_ids_in_bounds_are_read(esma_main, small_catalog, tmp_path, args):
    db = copy_catalog(small_catalog, tmp_path / "c.sqlite")
    code, out, err = esma_main(*args, "--db", db)
    if args[1] == "1":
        assert code == 0 and out.startswith("#1"), err
    else:
        assert code == 2 and "no formula with id" in err, err


def test_limits_parse_id_takes_ascii_digits_only():
    assert limits.parse_id("7") == 7 and limits.parse_id(str(limits.MAX_INTEGER)) == limits.MAX_INTEGER
    for bad in ("0", "-1", "+1", " 1", "1 ", "1_0", "²", "\u0661", "", "1e3", str(limits.MAX_INTEGER + 1),
                "9" * 5000):
        with pytest.raises(ValueError, match="ASCII digits"):
            limits.parse_id(bad)


# ------------------------------------------------------------------------------- newer schema, read-only medium


def test_a_catalog_of_a_newer_esma_is_one_clear_line(esma_main, small_catalog, tmp_path):
    db = copy_catalog(small_catalog, tmp_path / "c.sqlite")
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    con.close()
    for args in (["list"], ["show", "1"], ["families"], ["export", "--format", "csv"], ["verify", "1"],
                 ["search", "e", "--coeff-limit", "1", "--max-period", "1"]):
        code, out, err = esma_main(*args, "--db", db)
        assert code == 2, (args, err)
        assert out == ""
        [line] = err.splitlines()
        assert "newer esma" in line and "0099_from_the_future" in line and "upgrade esma" in line, line
        assert "CommandError" not in line and "Can't locate" not in line


@pytest.fixture
def read_only_medium(small_catalog, tmp_path):
    """A folder on a read-only file system holding a copy of the catalog: a read-only bind mount (as root,
    whom file modes do not stop), or, for another user, a folder and file without write permission."""
    src = tmp_path / "src"
    src.mkdir()
    copy_catalog(small_catalog, src / "c.sqlite")
    con = sqlite3.connect(src / "c.sqlite")  # a catalog is in WAL mode; leave no -wal/-shm beside it
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for extra in ("c.sqlite-wal", "c.sqlite-shm"):
        (src / extra).unlink(missing_ok=True)
    if os.geteuid() != 0:
        (src / "c.sqlite").chmod(0o444)
        src.chmod(0o555)
        yield src
        src.chmod(0o755)
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(src), str(ro)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"root cannot be kept from writing here without a read-only mount: {mounted.stderr.strip()}")
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True, text=True)
        assert remount.returncode == 0, remount.stderr
        with pytest.raises(OSError):
            (ro / "probe").touch()  # the medium really is read-only
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_reading_commands_open_a_read_only_catalog_read_only(esma_main, read_only_medium, small_catalog, tmp_path):
    db = read_only_medium / "c.sqlite"
    ref = copy_catalog(small_catalog, tmp_path / "ref.sqlite")
    for args in (["list", "--json"], ["show", "1", "--json"], ["families", "--json"], ["export", "--format", "csv"],
                 ["export", "--format", "json"]):
        code, out, err = esma_main(*args, "--db", db)
        assert code == 0, (args, err)
        ref_code, expected, ref_err = esma_main(*args, "--db", ref)
        assert ref_code == 0, ref_err
        if args[0] == "export" and args[-1] == "json":  # the catalog's own URL is part of the provenance
            out, expected = (json.loads(t) for t in (out, expected))
            for doc in (out, expected):
                doc.pop("catalog", None)
                doc.pop("exported_at", None)
        assert out == expected, args
    assert sorted(p.name for p in read_only_medium.iterdir()) == ["c.sqlite"]


def test_writing_commands_on_a_read_only_catalog_are_one_clear_line(esma_main, read_only_medium):
    db = read_only_medium / "c.sqlite"
    for args in (["verify", "1"], ["search", "e", "--coeff-limit", "1", "--max-period", "1"]):
        code, out, err = esma_main(*args, "--db", db)
        assert code == 2, (args, err)
        assert out == ""
        [line] = err.splitlines()
        assert "read-only" in line and "not a file that SQLite can open" not in line, line


def test_serve_reads_a_catalog_on_a_read_only_medium(read_only_medium, tmp_path):
    """The real server, over HTTP."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    proc = subprocess.Popen([*ESMA, "serve", "--db", str(read_only_medium / "c.sqlite"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?format=json", timeout=5) as resp:
                    assert resp.status == 200
                    doc = json.loads(resp.read())
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        assert "e" in json.dumps(doc)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
