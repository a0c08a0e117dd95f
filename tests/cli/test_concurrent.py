"""Two ``esma search`` processes writing one SQLite catalog at the same time.

The final catalog must equal the union of the catalogs the same searches produce on their own: same
conjectures (records without ids), one search per (constant, parameters), every chunk counted once.
"""

from __future__ import annotations

import json

import pytest
from catalog_checks import check_searches_match

E_ARGS = ["search", "e", "--coeff-limit", "2", "--max-period", "2", "--verify-digits", "300", "--executor", "serial"]
TAN_ARGS = ["search", "tan(1)", "--max-period", "3", "--coeff-limit", "1", "--executor", "serial"]


def run_together(esma_popen, db, *commands):
    procs = [esma_popen(*cmd, "--json", "--db", db) for cmd in commands]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        results.append((p.returncode, out, err))
    return results


def by_constant(snap):
    return {s["constant"]: s for s in snap["searches"]}


def check_union(snap, *refs):
    assert snap["integrity"] == ["ok"]
    union = sorted((r for ref in refs for r in ref["records"]), key=lambda d: json.dumps(d, sort_keys=True))
    assert snap["records"] == union
    check_searches_match(snap, {k: v for ref in refs for k, v in by_constant(ref).items()})


@pytest.fixture(scope="module")
def refs(e_reference, tan_search, snapshot):
    return {"e": snapshot(e_reference.db), "tan(1)": snapshot(tan_search.db)}


def test_two_constants_at_once(esma_popen, snapshot, refs, tmp_path):
    db = tmp_path / "c.sqlite"
    results = run_together(esma_popen, db, E_ARGS, TAN_ARGS)
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
        json.loads(out)
    (_, out_e, _), (_, out_tan, _) = results
    assert len(json.loads(out_e)["conjectures"]) == len(refs["e"]["records"])
    assert len(json.loads(out_tan)["conjectures"]) == len(refs["tan(1)"]["records"])
    check_union(snapshot(db), refs["e"], refs["tan(1)"])


def test_same_search_twice_at_once(esma_popen, snapshot, refs, tmp_path):
    db = tmp_path / "c.sqlite"
    results = run_together(esma_popen, db, E_ARGS, E_ARGS)
    docs = []
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
        docs.append(json.loads(out))
    assert docs[0]["search"]["id"] == docs[1]["search"]["id"], "the same search was registered twice"
    ids = [sorted(c["id"] for c in d["conjectures"]) for d in docs]
    assert ids[0] == ids[1], "the two processes report different conjectures"
    assert len(ids[0]) == len(refs["e"]["records"])
    check_union(snapshot(db), refs["e"])


def test_second_search_joins_a_catalog_in_use(esma_popen, esma_run, wait_for_chunks, snapshot, refs, tmp_path):
    """A search started while another is half-way through the same file (staggered start)."""
    db = tmp_path / "c.sqlite"
    first = esma_popen(*E_ARGS, "--db", db)
    wait_for_chunks(first, db, 3)
    second = esma_run(*E_ARGS, "--db", db)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.code == 0, second.stderr
    check_union(snapshot(db), refs["e"])
