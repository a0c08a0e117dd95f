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
    ({"depth": 5000, "digits": 500, "max_period": 16}, ["8 transforms x 130,486 sign periods x 5,000 terms", "GiB"]),
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
    assert limits.chunk_bytes(p) == 8 * 4 * 100 * 8  # periods +, -, +-, -+
    assert limits.chunk_bytes(p, periods=1, transforms=1) == 800


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
