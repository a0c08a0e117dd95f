"""Bad usage and bad input: exit code 2, one clear line on stderr, no traceback, nothing on stdout.

The cases of the brief are real subprocesses, run concurrently in one module fixture to keep the suite fast;
further cases go through ``esma.cli.main.main`` in-process.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

DB = "{db}"  # replaced by a fresh catalog path per case

BAD = {
    "unknown-name": ["search", "foo", "--db", DB],
    "attribute": ["search", "e.__class__", "--db", DB],
    "import": ["search", "__import__('os')", "--db", DB],
    "rational": ["search", "2/3", "--db", DB],
    "division-by-zero": ["search", "1/0", "--db", DB],
    "log-zero": ["search", "log(0)", "--db", DB],
    "depth-0": ["search", "e", "--depth", "0", "--db", DB],
    "digits-negative": ["search", "e", "--digits", "-1", "--db", DB],
    "periods-reversed": ["search", "e", "--min-period", "3", "--max-period", "2", "--db", DB],
    "executor-nope": ["search", "e", "--executor", "nope", "--db", DB],
    "workers-0": ["search", "e", "--workers", "0", "--db", DB],
    "show-missing": ["show", "999999", "--db", DB],
    "verify-missing": ["verify", "999999", "--db", DB],
    "signs-x": ["expand", "e", "--signs", "+x"],
    "terms-0": ["expand", "e", "--terms", "0"],
    "db-missing-folder": ["search", "e", "--db", "/nonexistent/dir/x.sqlite"],
    "db-unknown-dialect": ["search", "e", "--db", "nosuchdialect://x"],
}

# More of the same contract, checked in-process through main() (the same exit-code wrapper, much faster).
MORE = {
    "missing-argument": ["search"],
    "unknown-command": ["frobnicate"],
    "show-not-an-int": ["show", "abc", "--db", DB],
    "verify-digits-0": ["verify", "1", "--verify-digits", "0", "--db", DB],
    "list-unknown-constant": ["list", "--constant", "foo", "--db", DB],
    "export-bad-format": ["export", "--format", "xml", "--db", DB],
    "scheduler-without-dask": ["search", "e", "--scheduler", "tcp://127.0.0.1:1", "--db", DB],
    "coeff-limit-0": ["search", "e", "--coeff-limit", "0", "--db", DB],
    "expand-unknown-name": ["expand", "foo"],
    "depth-absurd": ["search", "e", "--depth", "1000000000", "--db", DB],
    "max-seconds-0": ["search", "e", "--max-seconds", "0", "--db", DB],
}

# Found while writing these tests: bad input that is reported as a runtime failure (exit 1) instead of exit 2.
# once bugs (exit 1 with an exception name), now bad input with one line
FORMER_BUGS = {
    "db-empty": ["list", "--db", ""],
    "db-is-a-folder": ["list", "--db", "{folder}"],
    "export-output-missing-folder": ["export", "--output", "/nonexistent/dir/out.json", "--db", DB],
    "scheduler-not-an-address": ["search", "e", "--executor", "dask", "--scheduler", "notaurl", "--db", DB],
    "degree-3": ["search", "e", "--degree", "3", "--db", DB],
}


@pytest.fixture(scope="module")
def results(esma_run, tmp_path_factory):
    def run(item):
        name, args = item
        db = tmp_path_factory.mktemp(name) / "c.sqlite"
        return name, esma_run(*[a.format(db=db) for a in args], timeout=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, BAD.items()))


def check_one_line_error(res):
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].strip()
    assert lines[0].startswith("esma: error: ")
    assert len(lines[0]) > len("esma: error: ") + 5
    assert res.stdout == ""


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_exits_2_with_one_line(results, name):
    res = results[name]
    assert res.code == 2, (res.code, res.stderr)
    check_one_line_error(res)


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("unknown-name", "foo"),
        ("rational", "2/3"),
        ("depth-0", "depth"),
        ("digits-negative", "digits"),
        ("periods-reversed", "period"),
        ("executor-nope", "nope"),
        ("workers-0", "workers"),
        ("show-missing", "999999"),
        ("verify-missing", "999999"),
        ("signs-x", "+x"),
        ("terms-0", "terms"),
        ("db-missing-folder", "/nonexistent/dir"),
        ("db-unknown-dialect", "nosuchdialect"),
    ],
)
def test_error_names_the_culprit(results, name, needle):
    assert needle in results[name].stderr


@pytest.mark.parametrize("name", list(FORMER_BUGS))
def test_former_bad_input_bugs(esma_main, tmp_path, name):
    folder = tmp_path / "folder"
    folder.mkdir()
    res = esma_main(*[a.format(db=tmp_path / "c.sqlite", folder=folder) for a in FORMER_BUGS[name]])
    assert res.code == 2, (res.code, res.stderr)
    check_one_line_error(res)


@pytest.mark.parametrize("name", list(MORE))
def test_more_bad_input_in_process(esma_main, tmp_path, name):
    res = esma_main(*[a.format(db=tmp_path / "c.sqlite") for a in MORE[name]])
    assert res.code == 2, (res.code, res.stderr)
    check_one_line_error(res)


def test_bad_input_leaves_no_search_behind(esma_main, tmp_path):
    db = tmp_path / "c.sqlite"
    res = esma_main("search", "e", "--depth", "0", "--db", db)
    assert res.code == 2
    ok = esma_main("export", "--db", db)
    assert ok.code == 0
    assert json.loads(ok.stdout)["searches"] == []


def test_nothing_found_is_success(esma_run, tmp_path):
    db = tmp_path / "c.sqlite"
    res = esma_run("search", "pi", "--coeff-limit", "1", "--max-period", "2", "--db", db)
    assert res.code == 0, res.stderr
    assert "Traceback" not in res.stderr
    from esma.render import constant_text

    assert f"No formula for {constant_text('pi')}." in res.stdout and "conjecture" not in res.stdout + res.stderr
    assert "stored no formula" in res.stderr and "0 formulas in 0 families" not in res.stderr
    again = esma_run("search", "pi", "--coeff-limit", "1", "--max-period", "2", "--json", "--db", db)
    assert again.code == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["conjectures"] == []
    assert doc["search"]["conjectures"] == 0 and doc["search"]["candidates"] > 0
